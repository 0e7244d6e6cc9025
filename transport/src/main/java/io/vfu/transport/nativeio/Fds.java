package io.vfu.transport.nativeio;

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

    private static final byte[] EVENTFD_LINK = "anon_inode:[eventfd]".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Whether {@code fd} is an eventfd: its {@code /proc/self/fd} link reads {@code anon_inode:[eventfd]}
     * (readlink(2) through FFM, compared as bytes: this runs for every interrupt target a client passes).
     */
    public static boolean isEventFd(int fd) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment path = a.allocateFrom("/proc/self/fd/" + fd);
            java.lang.foreign.MemorySegment link = a.allocate(64);
            long n;
            try {
                n = Libc.once("readlink", st -> (long) Downcalls.Fd.READLINK.invokeExact(st, path, link, 64L));
            } catch (NativeCallException e) {
                return false; // not an open fd
            }
            if (n != EVENTFD_LINK.length) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (link.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != EVENTFD_LINK[i]) {
                    return false;
                }
            }
            return true;
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

    /** A pipe (pipe2(2), close-on-exec): {read end, write end}. */
    public static OwnedFd[] pipe() throws NativeCallException {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment fds = a.allocate(java.lang.foreign.ValueLayout.JAVA_INT, 2);
            Libc.once("pipe2", st -> (int) Downcalls.Fd.PIPE2.invokeExact(st, fds, Libc.O_CLOEXEC));
            return new OwnedFd[] {OwnedFd.adopt(fds.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 0)),
                OwnedFd.adopt(fds.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1))};
        }
    }

    /** An existing file (or device, such as /dev/null) opened read-write and close-on-exec (open(2)). */
    public static OwnedFd openReadWrite(java.nio.file.Path path) throws NativeCallException {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment name = a.allocateFrom(path.toString());
            return OwnedFd.adopt((int) Libc.once("open " + path,
                    st -> (int) Downcalls.Fd.OPEN.invokeExact(st, name, O_RDWR | Libc.O_CLOEXEC)));
        }
    }

    /** How many fds this process has open now ({@code /proc/self/fd}; the listing's own fd included). */
    public static int openCount() {
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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
