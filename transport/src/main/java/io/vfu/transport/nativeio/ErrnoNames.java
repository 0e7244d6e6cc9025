package io.vfu.transport.nativeio;

import java.util.Map;
import java.util.Optional;

/**
 * The names and messages of Linux errno values (x86-64 and aarch64 numbering, glibc's {@code strerror} text), so
 * that an error says {@code ENOENT (No such file or directory)} rather than a bare number. The table holds the
 * values a socket, file or memory call can report; any other value reads as {@code errno N}.
 */
public final class ErrnoNames {

    /** One errno: its number, its macro name, and glibc's strerror text. */
    private record Entry(int errno, String name, String message) {
    }

    private static final Entry[] ENTRIES = {
            new Entry(1, "EPERM", "Operation not permitted"),
            new Entry(2, "ENOENT", "No such file or directory"),
            new Entry(3, "ESRCH", "No such process"),
            new Entry(4, "EINTR", "Interrupted system call"),
            new Entry(5, "EIO", "Input/output error"),
            new Entry(6, "ENXIO", "No such device or address"),
            new Entry(7, "E2BIG", "Argument list too long"),
            new Entry(9, "EBADF", "Bad file descriptor"),
            new Entry(11, "EAGAIN", "Resource temporarily unavailable"),
            new Entry(12, "ENOMEM", "Cannot allocate memory"),
            new Entry(13, "EACCES", "Permission denied"),
            new Entry(14, "EFAULT", "Bad address"),
            new Entry(16, "EBUSY", "Device or resource busy"),
            new Entry(17, "EEXIST", "File exists"),
            new Entry(18, "EXDEV", "Invalid cross-device link"),
            new Entry(19, "ENODEV", "No such device"),
            new Entry(20, "ENOTDIR", "Not a directory"),
            new Entry(21, "EISDIR", "Is a directory"),
            new Entry(22, "EINVAL", "Invalid argument"),
            new Entry(23, "ENFILE", "Too many open files in system"),
            new Entry(24, "EMFILE", "Too many open files"),
            new Entry(25, "ENOTTY", "Inappropriate ioctl for device"),
            new Entry(26, "ETXTBSY", "Text file busy"),
            new Entry(27, "EFBIG", "File too large"),
            new Entry(28, "ENOSPC", "No space left on device"),
            new Entry(29, "ESPIPE", "Illegal seek"),
            new Entry(30, "EROFS", "Read-only file system"),
            new Entry(32, "EPIPE", "Broken pipe"),
            new Entry(34, "ERANGE", "Numerical result out of range"),
            new Entry(36, "ENAMETOOLONG", "File name too long"),
            new Entry(38, "ENOSYS", "Function not implemented"),
            new Entry(40, "ELOOP", "Too many levels of symbolic links"),
            new Entry(75, "EOVERFLOW", "Value too large for defined data type"),
            new Entry(88, "ENOTSOCK", "Socket operation on non-socket"),
            new Entry(90, "EMSGSIZE", "Message too long"),
            new Entry(93, "EPROTONOSUPPORT", "Protocol not supported"),
            new Entry(95, "EOPNOTSUPP", "Operation not supported"),
            new Entry(97, "EAFNOSUPPORT", "Address family not supported by protocol"),
            new Entry(98, "EADDRINUSE", "Address already in use"),
            new Entry(99, "EADDRNOTAVAIL", "Cannot assign requested address"),
            new Entry(100, "ENETDOWN", "Network is down"),
            new Entry(101, "ENETUNREACH", "Network is unreachable"),
            new Entry(103, "ECONNABORTED", "Software caused connection abort"),
            new Entry(104, "ECONNRESET", "Connection reset by peer"),
            new Entry(105, "ENOBUFS", "No buffer space available"),
            new Entry(106, "EISCONN", "Transport endpoint is already connected"),
            new Entry(107, "ENOTCONN", "Transport endpoint is not connected"),
            new Entry(110, "ETIMEDOUT", "Connection timed out"),
            new Entry(111, "ECONNREFUSED", "Connection refused"),
            new Entry(113, "EHOSTUNREACH", "No route to host"),
            new Entry(122, "EDQUOT", "Disk quota exceeded"),
    };

    private static final Map<Integer, Entry> BY_ERRNO = index();

    private ErrnoNames() {
    }

    private static Map<Integer, Entry> index() {
        Map<Integer, Entry> m = new java.util.HashMap<>();
        for (Entry e : ENTRIES) {
            m.put(e.errno(), e);
        }
        return Map.copyOf(m);
    }

    /** The macro name of {@code errno}, e.g. {@code ENOENT}, or {@code errno N} for a value not in the table. */
    public static String name(int errno) {
        Entry e = BY_ERRNO.get(errno);
        return e != null ? e.name() : "errno " + errno;
    }

    /** The name and strerror text, e.g. {@code ENOENT (No such file or directory)}. */
    public static String describe(int errno) {
        Entry e = BY_ERRNO.get(errno);
        return e != null ? e.name() + " (" + e.message() + ")" : "errno " + errno;
    }

    /**
     * Why {@code e} happened, by errno name where one is known: a {@link NativeCallException}'s errno; a JDK
     * file error's kind ({@code NoSuchFileException} is ENOENT, {@code AccessDeniedException} EACCES,
     * {@code FileAlreadyExistsException} EEXIST, {@code NotDirectoryException} ENOTDIR) or strerror text; a JDK
     * socket error whose message is strerror text; otherwise the exception's message.
     */
    public static String reason(java.io.IOException e) {
        return switch (e) {
            case NativeCallException n -> n.reason();
            case java.nio.file.NoSuchFileException x -> withDetail(2, x.getReason());
            case java.nio.file.AccessDeniedException x -> withDetail(13, x.getReason());
            case java.nio.file.FileAlreadyExistsException x -> withDetail(17, x.getReason());
            case java.nio.file.NotDirectoryException x -> withDetail(20, x.getReason());
            case java.nio.file.FileSystemException x -> byMessage(x.getReason()).map(ErrnoNames::describe)
                    .orElse(String.valueOf(x.getReason()));
            default -> byMessage(e.getMessage()).map(ErrnoNames::describe).orElse(String.valueOf(e.getMessage()));
        };
    }

    /** {@code describe(errno)}, then {@code detail} unless it only repeats the errno's text. */
    private static String withDetail(int errno, String detail) {
        String d = describe(errno);
        return detail == null || byMessage(detail).isPresent() ? d : d + ": " + detail;
    }

    /**
     * The errno whose strerror text is {@code message} (the JDK words its socket and file errors so), if any:
     * {@code "Address already in use"} is EADDRINUSE.
     */
    public static Optional<Integer> byMessage(String message) {
        if (message == null) {
            return Optional.empty();
        }
        for (Entry e : ENTRIES) {
            if (e.message().equalsIgnoreCase(message.strip())) {
                return Optional.of(e.errno());
            }
        }
        return Optional.empty();
    }
}
