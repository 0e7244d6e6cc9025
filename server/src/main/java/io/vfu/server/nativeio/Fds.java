package io.vfu.server.nativeio;

/** Small fd helpers: the process uid, blocking mode, what an fd is, and whether an fd number is open. */
public final class Fds {

    private Fds() {
    }

    /** The real uid of this process (getuid(2)), to compare with a peer's SO_PEERCRED uid. */
    public static long currentUid() {
        return Libc.getuid();
    }

    /** Clears O_NONBLOCK on {@code fd}. */
    public static void setBlocking(int fd) throws NativeCallException {
        int flags = Libc.fcntl(fd, Libc.F_GETFL, 0);
        if ((flags & Libc.O_NONBLOCK) != 0) {
            Libc.fcntl(fd, Libc.F_SETFL, flags & ~Libc.O_NONBLOCK);
        }
    }

    /** Sets O_NONBLOCK on {@code fd}. */
    public static void setNonBlocking(int fd) throws NativeCallException {
        int flags = Libc.fcntl(fd, Libc.F_GETFL, 0);
        if ((flags & Libc.O_NONBLOCK) == 0) {
            Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK);
        }
    }

    /**
     * What {@code fd} refers to, as {@code /proc/self/fd} tells: a path for files, {@code pipe:[N]},
     * {@code socket:[N]} or {@code anon_inode:[eventfd]} and the like; "not open" if it cannot be read.
     */
    public static String kind(int fd) {
        try {
            return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd", Integer.toString(fd)))
                    .toString();
        } catch (java.io.IOException e) {
            return "not open";
        }
    }

    /** Whether {@code fd} was opened for writing too (its access mode is O_RDWR). */
    public static boolean readWrite(int fd) throws NativeCallException {
        return (Libc.fcntl(fd, Libc.F_GETFL, 0) & O_ACCMODE) == O_RDWR;
    }

    private static final int O_ACCMODE = 3;
    private static final int O_RDWR = 2;

    /** Whether {@code fd} is an open descriptor of this process (fcntl F_GETFD). */
    public static boolean isOpen(int fd) {
        try {
            Libc.fcntl(fd, Libc.F_GETFD, 0);
            return true;
        } catch (NativeCallException e) {
            return false;
        }
    }
}
