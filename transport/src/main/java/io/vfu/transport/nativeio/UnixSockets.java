package io.vfu.transport.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * AF_UNIX stream sockets through FFM: accept4, connect, socketpair and SO_PEERCRED. Every fd created here is
 * close-on-exec and blocking, and is returned as an {@link OwnedFd}. This replaces junixsocket on the server
 * (see README "Architecture notes"): no JNI library is loaded, and nothing but the owner ever closes an fd.
 */
public final class UnixSockets {

    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 0x80000;
    /** sizeof(sun_path) on Linux. */
    static final int SUN_PATH = 108;

    private static final int SHUT_WR = 1;
    private static final int SHUT_RDWR = 2;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERCRED = 17;
    private static final int SO_SNDTIMEO = 21;
    private static final int ECONNREFUSED = 111;
    private static final int ENOENT = 2;
    private static final int ECONNABORTED = 103;
    private static final int ECONNRESET = 104;

    private static final int MSG_PEEK = 2;
    private static final int MSG_DONTWAIT = 0x40;
    /** struct msghdr on x86-64/aarch64 Linux: 56 bytes, msg_iov at 16, msg_iovlen at 24. */
    private static final int MSGHDR_BYTES = 56;

    /** struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields. */
    private static final int UCRED_BYTES = 12;

    private UnixSockets() {
    }

    /**
     * The credentials the kernel recorded for the peer of a connected socket (SO_PEERCRED), widened from
     * pid_t/uid_t/gid_t: pid as signed, uid and gid as unsigned 32-bit values.
     */
    public record Ucred(long pid, long uid, long gid) {
    }

    /** {@code struct sockaddr_un} for {@code path}, with its length (family, path bytes, NUL) in {@code len}. */
    static MemorySegment sockaddr(Arena arena, Path path) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        // Rule: sun_path holds the name and its terminating NUL.
        if (name.length >= SUN_PATH) {
            throw new IOException("socket path longer than " + (SUN_PATH - 1) + " bytes: " + path);
        }
        MemorySegment addr = arena.allocate(2 + name.length + 1);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
        return addr;
    }

    /**
     * Waits for the next connection on a listening socket (accept4 with SOCK_CLOEXEC, retrying EINTR and
     * ECONNABORTED). A {@code shutdown(2)} of the listening socket from another thread makes a blocked call
     * fail (EINVAL), which is how a listener is closed.
     */
    public static OwnedFd accept(int listenFd) throws NativeCallException {
        MemorySegment st = Libc.state();
        while (true) {
            int r;
            try {
                r = (int) Downcalls.Accept.ACCEPT4.invokeExact(st, listenFd, MemorySegment.NULL,
                        MemorySegment.NULL, SOCK_CLOEXEC);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
            if (r >= 0) {
                return OwnedFd.adopt(r);
            }
            int e = Libc.errno(st);
            // Rule: a connection reset before it was accepted is the peer's business, not the listener's.
            if (e != Libc.EINTR && e != ECONNABORTED) {
                throw new NativeCallException("accept4", e);
            }
        }
    }

    /**
     * Connects a new socket to {@code path}.
     *
     * @throws ConnectException when nothing listens there (ECONNREFUSED) or the file does not exist (ENOENT)
     */
    public static OwnedFd connect(Path path) throws IOException {
        OwnedFd fd = OwnedFd.adopt(Libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = sockaddr(arena, path);
            MemorySegment st = Libc.state();
            while (true) {
                int r;
                try {
                    r = (int) Downcalls.Connect.CONNECT.invokeExact(st, fd.fd(), addr, (int) addr.byteSize());
                } catch (Throwable t) {
                    throw Libc.rethrow(t);
                }
                if (r == 0) {
                    return fd;
                }
                int e = Libc.errno(st);
                if (e == ECONNREFUSED || e == ENOENT) {
                    throw new ConnectException(new NativeCallException("connect", e).getMessage() + ": " + path);
                }
                // Rule: an AF_UNIX connect interrupted by a signal is not in progress afterwards; retry it.
                if (e != Libc.EINTR) {
                    throw new NativeCallException("connect", e);
                }
            }
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** Two connected sockets (socketpair(2)), each owned by the caller. */
    public static OwnedFd[] pair() throws NativeCallException {
        MemorySegment st = Libc.state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sv = arena.allocate(JAVA_INT, 2);
            int r;
            try {
                r = (int) Downcalls.Connect.SOCKETPAIR.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
            if (r != 0) {
                throw new NativeCallException("socketpair", Libc.errno(st));
            }
            return new OwnedFd[] {OwnedFd.adopt(sv.getAtIndex(JAVA_INT, 0)), OwnedFd.adopt(sv.getAtIndex(JAVA_INT, 1))};
        }
    }

    /**
     * shutdown(2) of both directions: on a connected socket the peer sees end of stream; on a listening socket
     * a thread blocked in {@link #accept} wakes with an error.
     */
    public static void shutdown(int fd) throws NativeCallException {
        Libc.shutdown(fd, SHUT_RDWR);
    }

    /** shutdown(2) of the sending direction only: the peer sees end of stream after what was sent. */
    public static void shutdownOutput(int fd) throws NativeCallException {
        Libc.shutdown(fd, SHUT_WR);
    }

    /**
     * Bounds every send on {@code fd} (SO_SNDTIMEO): a sendmsg that can move no byte for {@code timeout}
     * fails with EAGAIN instead of blocking on a peer that stopped reading. Zero means no bound.
     */
    public static void setSendTimeout(int fd, java.time.Duration timeout) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            // struct timeval { time_t tv_sec; suseconds_t tv_usec; }: two 64-bit fields on x86-64 and aarch64.
            MemorySegment tv = arena.allocate(16, 8);
            tv.set(ValueLayout.JAVA_LONG, 0, timeout.toSeconds());
            tv.set(ValueLayout.JAVA_LONG, 8, timeout.toNanosPart() / 1000);
            Libc.once("setsockopt(SO_SNDTIMEO)",
                    st -> (int) Downcalls.Accept.SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_SNDTIMEO, tv, 16));
        }
    }

    /** What a connected socket has waiting from its peer, as {@link #inbound} sees it without reading. */
    public enum Inbound {
        /** Nothing yet: the peer is connected and silent. */
        NOTHING_YET,
        /** At least one byte. */
        DATA,
        /** End of stream before any byte: the peer closed (or shut down sending) without sending. */
        END_OF_STREAM
    }

    /**
     * What the peer of a connected socket has sent so far, without consuming it and without blocking: poll(2),
     * then a one-byte recvmsg(2) with MSG_PEEK (no control buffer, so a peeked fd is never installed).
     */
    public static Inbound inbound(int fd) throws NativeCallException {
        if (!Libc.pollIn(fd, 0)) {
            return Inbound.NOTHING_YET;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, 1);
            MemorySegment msg = arena.allocate(MSGHDR_BYTES, 8);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            long n;
            try {
                n = Libc.recvmsg(fd, msg, MSG_PEEK | MSG_DONTWAIT);
            } catch (NativeCallException e) {
                // Rule: a connection reset before anything was sent has ended as surely as a closed one.
                if (e.errno() == ECONNRESET) {
                    return Inbound.END_OF_STREAM;
                }
                throw e;
            }
            return n == 0 ? Inbound.END_OF_STREAM : Inbound.DATA;
        }
    }

    /** SO_PEERCRED of a connected socket. */
    public static Ucred peerCredentials(int fd) throws NativeCallException {
        MemorySegment st = Libc.state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(UCRED_BYTES, 4);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, UCRED_BYTES);
            int r;
            try {
                r = (int) Downcalls.Accept.GETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_PEERCRED, cred, len);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
            if (r != 0) {
                throw new NativeCallException("getsockopt(SO_PEERCRED)", Libc.errno(st));
            }
            return new Ucred(cred.get(JAVA_INT, 0), Integer.toUnsignedLong(cred.get(JAVA_INT, 4)),
                    Integer.toUnsignedLong(cred.get(JAVA_INT, 8)));
        }
    }
}
