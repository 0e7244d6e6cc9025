package io.vfu.server.nativeio;

/** Small fd helpers: the process uid, blocking mode, and whether an fd number is open. */
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
