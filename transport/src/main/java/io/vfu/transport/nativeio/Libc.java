package io.vfu.transport.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The few libc calls this project needs, through the FFM API (no JNI of our own). Each wrapper returns the raw
 * result on success and throws {@link NativeCallException} with the captured errno on failure, retrying
 * {@code EINTR} where the call is idempotent. The handles are linked on first use, per group
 * ({@link Downcalls}); the socket calls of a client connection are in {@link UnixSockets}.
 */
final class Libc {

    static final int EINTR = 4;
    static final int EAGAIN = 11;

    static final int O_CLOEXEC = 0x80000;
    static final int EFD_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = 0x800;
    static final int MFD_CLOEXEC = 0x1;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_GETFD = 1;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int O_NONBLOCK = 0x800;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x1;
    static final short POLLIN = 0x1;

    private static final int SC_PAGESIZE = 30;

    /** Per-thread errno capture segment, freed with its thread (threads come and go with connections). */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Downcalls.CAPTURE));

    private Libc() {
    }

    /** The system page size, for mmap offset alignment (sysconf is linked on first use). */
    static long pageSize() {
        return PageSize.VALUE;
    }

    private static final class PageSize {
        static final long VALUE;

        static {
            try {
                VALUE = (long) Downcalls.Memory.SYSCONF.invokeExact(SC_PAGESIZE);
            } catch (Throwable t) {
                throw new ExceptionInInitializerError(t);
            }
        }
    }

    /** This thread's errno capture segment, passed as the first argument of every capturing handle. */
    static MemorySegment state() {
        return STATE.get();
    }

    static int errno(MemorySegment state) {
        return state.get(JAVA_INT, Downcalls.ERRNO_OFFSET);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** A capturing downcall: {@code state} is this thread's errno capture segment, passed first. */
    @FunctionalInterface
    interface Call {
        long invoke(MemorySegment state) throws Throwable;
    }

    /**
     * Runs {@code call} once; a negative result throws {@link NativeCallException} with {@code name} and the
     * captured errno. Returns the result.
     */
    static long once(String name, Call call) throws NativeCallException {
        MemorySegment st = STATE.get();
        long r = invoke(call, st);
        if (r < 0) {
            throw new NativeCallException(name, errno(st));
        }
        return r;
    }

    /**
     * Runs {@code call}, repeating it after EINTR (for calls that are safe to repeat); with
     * {@code eagainIsMinusOne}, EAGAIN returns -1 instead of throwing (a non-blocking fd had nothing to do).
     */
    static long retrying(String name, boolean eagainIsMinusOne, Call call) throws NativeCallException {
        MemorySegment st = STATE.get();
        while (true) {
            long r = invoke(call, st);
            if (r >= 0) {
                return r;
            }
            int e = errno(st);
            if (e == EAGAIN && eagainIsMinusOne) {
                return -1;
            }
            if (e != EINTR) {
                throw new NativeCallException(name, e);
            }
        }
    }

    private static long invoke(Call call, MemorySegment st) {
        try {
            return call.invoke(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2). EINTR is not retried: on Linux the fd is released even then. */
    static void close(int fd) throws NativeCallException {
        MemorySegment st = STATE.get();
        int r;
        try {
            r = (int) Downcalls.Fd.CLOSE.invokeExact(st, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0 && errno(st) != EINTR) {
            throw new NativeCallException("close", errno(st));
        }
    }

    static int fcntl(int fd, int cmd, int arg) throws NativeCallException {
        return (int) once("fcntl", st -> (int) Downcalls.Fd.FCNTL.invokeExact(st, fd, cmd, arg));
    }

    static int eventfd(int initval, int flags) throws NativeCallException {
        return (int) once("eventfd", st -> (int) Downcalls.Event.EVENTFD.invokeExact(st, initval, flags));
    }

    /** read(2) retrying EINTR; returns bytes read, or -1 for EAGAIN on a non-blocking fd. */
    static long read(int fd, MemorySegment buf, long count) throws NativeCallException {
        return retrying("read", true, st -> (long) Downcalls.Event.READ.invokeExact(st, fd, buf, count));
    }

    /** write(2) retrying EINTR; returns bytes written, or -1 for EAGAIN on a non-blocking fd. */
    static long write(int fd, MemorySegment buf, long count) throws NativeCallException {
        return retrying("write", true, st -> (long) Downcalls.Event.WRITE.invokeExact(st, fd, buf, count));
    }

    /** poll(2) for POLLIN on one fd; true when readable within the timeout. */
    static boolean pollIn(int fd, int timeoutMillis) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            // struct pollfd { int fd; short events; short revents; }
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, POLLIN);
            pfd.set(JAVA_SHORT, 6, (short) 0);
            return poll(pfd, 1, timeoutMillis) > 0 && (pfd.get(JAVA_SHORT, 6) & POLLIN) != 0;
        }
    }

    /** poll(2) over {@code count} struct pollfd entries, retrying EINTR; returns how many have events. */
    static int poll(MemorySegment pollfds, long count, int timeoutMillis) throws NativeCallException {
        return (int) retrying("poll", false,
                st -> (int) Downcalls.Event.POLL.invokeExact(st, pollfds, count, timeoutMillis));
    }

    static MemorySegment mmap(long length, int prot, int flags, int fd, long offset)
            throws NativeCallException {
        MemorySegment st = STATE.get();
        MemorySegment r;
        try {
            r = (MemorySegment) Downcalls.Memory.MMAP.invokeExact(st, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        // MAP_FAILED is (void *) -1.
        if (r.address() == -1L) {
            throw new NativeCallException("mmap", errno(st));
        }
        return r;
    }

    static void munmap(MemorySegment addr, long length) throws NativeCallException {
        once("munmap", st -> (int) Downcalls.Memory.MUNMAP.invokeExact(st, addr, length));
    }

    /** recvmsg(2) retrying EINTR; returns bytes received (0 at end of stream). */
    static long recvmsg(int fd, MemorySegment msghdr, int flags) throws NativeCallException {
        return retrying("recvmsg", false,
                st -> (long) Downcalls.Messages.RECVMSG.invokeExact(st, fd, msghdr, flags));
    }

    /** sendmsg(2) retrying EINTR; returns bytes sent. */
    static long sendmsg(int fd, MemorySegment msghdr, int flags) throws NativeCallException {
        return retrying("sendmsg", false,
                st -> (long) Downcalls.Messages.SENDMSG.invokeExact(st, fd, msghdr, flags));
    }

    static void shutdown(int fd, int how) throws NativeCallException {
        once("shutdown", st -> (int) Downcalls.Messages.SHUTDOWN.invokeExact(st, fd, how));
    }

    /** getuid(2), which cannot fail; widened from uid_t (u32). */
    static long getuid() {
        try {
            return Integer.toUnsignedLong((int) Downcalls.Accept.GETUID.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socket(int domain, int type, int protocol) throws NativeCallException {
        return (int) once("socket", st -> (int) Downcalls.Listen.SOCKET.invokeExact(st, domain, type, protocol));
    }

    static void bind(int fd, MemorySegment addr, int len) throws NativeCallException {
        once("bind", st -> (int) Downcalls.Listen.BIND.invokeExact(st, fd, addr, len));
    }

    static void listen(int fd, int backlog) throws NativeCallException {
        once("listen", st -> (int) Downcalls.Listen.LISTEN.invokeExact(st, fd, backlog));
    }

    static int memfdCreate(String name, int flags) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(name);
            return (int) once("memfd_create", st -> (int) Downcalls.Memory.MEMFD_CREATE.invokeExact(st, cname, flags));
        }
    }

    static void ftruncate(int fd, long length) throws NativeCallException {
        retrying("ftruncate", false, st -> (int) Downcalls.Memory.FTRUNCATE.invokeExact(st, fd, length));
    }

    /** Offset of st_size in struct stat: 48 on both x86-64 and the generic layout aarch64 uses. */
    private static final long ST_SIZE_OFFSET = 48;
    /** Room for struct stat on either architecture (144 and 128 bytes). */
    private static final long STAT_BYTES = 256;

    /** Offsets of st_dev and st_ino in struct stat (both u64 at 0 and 8 on x86-64 and aarch64). */
    private static final long ST_DEV_OFFSET = 0;
    private static final long ST_INO_OFFSET = 8;

    /** fstat(2): the identity (device, inode) and size of the file behind {@code fd}. */
    static FileStat fstat(int fd) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(STAT_BYTES, 8);
            once("fstat", st -> (int) Downcalls.Memory.FSTAT.invokeExact(st, fd, buf));
            return new FileStat(buf.get(JAVA_LONG, ST_DEV_OFFSET), buf.get(JAVA_LONG, ST_INO_OFFSET),
                    buf.get(JAVA_LONG, ST_SIZE_OFFSET));
        }
    }

    /** The size of the file behind {@code fd} ({@code st_size}); 0 for pipes, sockets and the like. */
    static long fileSize(int fd) throws NativeCallException {
        return fstat(fd).size();
    }
}
