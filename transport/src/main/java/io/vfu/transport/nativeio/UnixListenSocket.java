package io.vfu.transport.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Creates a listening AF_UNIX stream socket whose file has the requested group and mode before anyone can
 * connect: socket, bind, restrict to 0600, set the group, set the mode, and only then listen. Until listen(2)
 * a connect is refused, and until the group is set the file is the owner's alone, so there is no instant at
 * which the socket is reachable with the umask's wider mode or by a group it was not meant for.
 */
public final class UnixListenSocket {

    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private UnixListenSocket() {
    }

    /** Gives a freshly bound socket file its group (while it is still mode 0600 and not listening). */
    @FunctionalInterface
    public interface GroupSetter {
        void applyTo(Path path) throws IOException;
    }

    /** Binds {@code path} (which must not exist), sets {@code mode}, listens; the caller owns the fd. */
    public static OwnedFd bindAndListen(Path path, Set<PosixFilePermission> mode, int backlog) throws IOException {
        return bindAndListen(path, mode, null, backlog);
    }

    /**
     * Binds {@code path} (which must not exist), gives it {@code group} (null keeps the server's) and
     * {@code mode}, then listens; the caller owns the fd. On failure the file is removed again.
     */
    public static OwnedFd bindAndListen(Path path, Set<PosixFilePermission> mode, GroupSetter group, int backlog)
            throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            // Rule: a path too long for sun_path fails before any fd exists.
            MemorySegment addr = UnixSockets.sockaddr(arena, path);
            OwnedFd fd = OwnedFd.adopt(
                    Libc.socket(UnixSockets.AF_UNIX, UnixSockets.SOCK_STREAM | UnixSockets.SOCK_CLOEXEC, 0));
            try {
                Libc.bind(fd.fd(), addr, (int) addr.byteSize());
                try {
                    // Rule: owner-only before the group changes, so the new group never sees a wider mode.
                    Files.setPosixFilePermissions(path, OWNER_ONLY);
                    if (group != null) {
                        group.applyTo(path);
                    }
                    Files.setPosixFilePermissions(path, mode);
                    // Rule: listen last: only now can a client connect, and only as the file now allows.
                    Libc.listen(fd.fd(), backlog);
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(path);
                    throw e;
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                fd.close();
                throw e;
            }
        }
    }
}
