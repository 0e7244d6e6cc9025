package io.vfu.transport.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * recvmsg/sendmsg with SCM_RIGHTS on a connected AF_UNIX stream socket, through FFM. One instance per socket
 * direction holds its native msghdr, iovec and control buffer, so a call allocates nothing; an instance is
 * used by one thread at a time (the caller serialises).
 *
 * <p>The control buffer has room for SCM_MAX_FD (253) fds, the most the kernel attaches to one message, so
 * MSG_CTRUNC cannot happen for SCM_RIGHTS and every fd that arrives is handed to the caller (who decides
 * whether to keep or close it). Received fds are close-on-exec (MSG_CMSG_CLOEXEC).
 */
public final class SocketIo {

    /** Linux SCM_MAX_FD: the most fds one sendmsg may carry. */
    public static final int SCM_MAX_FD = 253;

    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SHUT_RDWR = 2;

    // struct msghdr on x86-64/aarch64 Linux: name, namelen(+pad), iov, iovlen, control, controllen, flags.
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_CONTROL = 32;
    private static final long MSG_CONTROLLEN = 40;
    private static final long MSG_FLAGS = 48;
    private static final long MSGHDR_SIZE = 56;
    // struct cmsghdr: len (size_t), level (int), type (int), then data at 16.
    private static final long CMSG_HDR = 16;
    private static final long CONTROL_SIZE = CMSG_HDR + ((SCM_MAX_FD * 4L + 7) & ~7L);

    private final int socketFd;
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final MemorySegment control;
    private static final int[] NONE = new int[0];

    private int[] lastFds = NONE;
    /** The send timeout in nanoseconds, 0 for none: an EAGAIN after this long means it expired. */
    private volatile long sendBound;
    private boolean truncated;

    /** For a socket fd owned elsewhere (the channel it belongs to must outlive this object's use). */
    public SocketIo(int socketFd) {
        this.socketFd = socketFd;
        Arena arena = Arena.ofAuto();
        this.msghdr = arena.allocate(MSGHDR_SIZE, 8);
        this.iov = arena.allocate(16, 8);
        this.control = arena.allocate(CONTROL_SIZE, 8);
    }

    /**
     * One recvmsg of at most {@code length} bytes into {@code buf} at {@code offset} (it may return fewer; the
     * caller loops). No MSG_WAITALL: it measured slower on the latency path. The fds that came with these
     * bytes are then in {@link #takeFds()}.
     *
     * @return bytes received; 0 means end of stream
     */
    public long receive(MemorySegment buf, long offset, long length) throws NativeCallException {
        prepareReceive(buf, offset, length);
        long n;
        try {
            n = HotCalls.recvmsg(socketFd, msghdr, MSG_CMSG_CLOEXEC);
        } finally {
            // Rule: the buffer's memory stays allocated while the kernel writes to its raw address.
            java.lang.ref.Reference.reachabilityFence(buf);
        }
        parseControl();
        return n;
    }

    /**
     * As {@link #receive} without waiting (MSG_DONTWAIT): -1 when nothing can be read now. Any failure reads
     * as -1 too, and the blocking {@link #receive} that follows reports what is left of it: a pending socket
     * error (ECONNRESET) is taken and cleared by the failed call, so the next read sees end of stream, which is
     * how the transport treats ECONNRESET anyway.
     */
    public long tryReceive(MemorySegment buf, long offset, long length) {
        prepareReceive(buf, offset, length);
        long n;
        try {
            n = HotCalls.recvmsgNoErrno(socketFd, msghdr, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        } finally {
            java.lang.ref.Reference.reachabilityFence(buf);
        }
        if (n < 0) {
            return -1; // Rule: a failed recvmsg moved no bytes and no fds; nothing to parse
        }
        parseControl();
        return n;
    }

    private void prepareReceive(MemorySegment buf, long offset, long length) {
        iov.set(JAVA_LONG, 0, address(buf, offset, length));
        iov.set(JAVA_LONG, 8, length);
        msghdr.fill((byte) 0);
        msghdr.set(ADDRESS, MSG_IOV, iov);
        msghdr.set(JAVA_LONG, MSG_IOVLEN, 1);
        msghdr.set(ADDRESS, MSG_CONTROL, control);
        msghdr.set(JAVA_LONG, MSG_CONTROLLEN, CONTROL_SIZE);
    }

    /**
     * The native address of {@code buf[offset, offset + length)}, bounds-checked, without building a slice (a
     * slice is an object per call on the message path).
     */
    private static long address(MemorySegment buf, long offset, long length) {
        if (!buf.isNative()) {
            throw new IllegalArgumentException("recvmsg/sendmsg need a native buffer");
        }
        java.util.Objects.checkFromIndexSize(offset, length, buf.byteSize());
        return buf.address() + offset;
    }

    private void parseControl() {
        long controlLen = msghdr.get(JAVA_LONG, MSG_CONTROLLEN);
        truncated = (msghdr.get(JAVA_INT, MSG_FLAGS) & MSG_CTRUNC) != 0;
        int[] fds = NONE;
        long off = 0;
        // Walk every cmsg (CMSG_NXTHDR): a sender may split its fds over several SCM_RIGHTS entries.
        while (off + CMSG_HDR <= controlLen) {
            long len = control.get(JAVA_LONG, off);
            if (len < CMSG_HDR || off + len > controlLen) {
                break;
            }
            int level = control.get(JAVA_INT, off + 8);
            int type = control.get(JAVA_INT, off + 12);
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                int n = (int) ((len - CMSG_HDR) / 4);
                int base = fds.length;
                fds = Arrays.copyOf(fds, base + n);
                for (int i = 0; i < n; i++) {
                    fds[base + i] = control.get(JAVA_INT, off + CMSG_HDR + 4L * i);
                }
            }
            off += (len + 7) & ~7L;
        }
        if (fds.length > 0 && lastFds.length == 0) {
            lastFds = fds;
        } else if (fds.length > 0) {
            int[] merged = Arrays.copyOf(lastFds, lastFds.length + fds.length);
            System.arraycopy(fds, 0, merged, lastFds.length, fds.length);
            lastFds = merged;
        }
    }

    /** The fds received since the last call (ownership passes to the caller), in arrival order. */
    public int[] takeFds() {
        int[] r = lastFds;
        lastFds = NONE;
        return r;
    }

    /** Whether the last receive saw MSG_CTRUNC (control data cut: some fds were dropped by the kernel). */
    public boolean truncated() {
        return truncated;
    }

    /**
     * Sends {@code length} bytes from {@code buf} with {@code fds} (SCM_RIGHTS on the first sendmsg only),
     * looping until every byte is out. The caller keeps ownership of the fds.
     */
    public void send(MemorySegment buf, long length, int[] fds) throws NativeCallException {
        if (fds.length > SCM_MAX_FD) {
            throw new IllegalArgumentException("at most " + SCM_MAX_FD + " fds per message");
        }
        long sent = 0;
        boolean withFds = fds.length > 0;
        // With a send bound, when this wait began: an EAGAIN before the bound ran out is a signal (SO_SNDTIMEO
        // sends are never restarted after one), not a stuck peer.
        long waitStarted = sendBound != 0 ? System.nanoTime() : 0;
        do {
            iov.set(JAVA_LONG, 0, address(buf, sent, length - sent));
            iov.set(JAVA_LONG, 8, length - sent);
            msghdr.fill((byte) 0);
            msghdr.set(ADDRESS, MSG_IOV, iov);
            msghdr.set(JAVA_LONG, MSG_IOVLEN, 1);
            if (withFds) {
                long cmsgLen = CMSG_HDR + 4L * fds.length;
                control.set(JAVA_LONG, 0, cmsgLen);
                control.set(JAVA_INT, 8, SOL_SOCKET);
                control.set(JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, CMSG_HDR + 4L * i, fds[i]);
                }
                msghdr.set(ADDRESS, MSG_CONTROL, control);
                msghdr.set(JAVA_LONG, MSG_CONTROLLEN, (cmsgLen + 7) & ~7L);
            }
            try {
                sent += HotCalls.sendmsg(socketFd, msghdr, MSG_NOSIGNAL);
                if (sent < length && sendBound != 0) {
                    waitStarted = System.nanoTime(); // progress: the bound counts from here
                }
            } catch (NativeCallException e) {
                // EAGAIN on this blocking socket is the bound expiring (the caller ends the connection) only once
                // the bound has passed; sooner, or without a bound, a signal interrupted the wait and the
                // non-waiting repeat found the socket full (see HotCalls): wait again.
                if (e.errno() == Libc.EAGAIN
                        && (sendBound == 0 || System.nanoTime() - waitStarted < sendBound - sendBound / 10)) {
                    continue;
                }
                throw e;
            } finally {
                // Rule: the buffer's memory stays allocated while the kernel reads its raw address.
                java.lang.ref.Reference.reachabilityFence(buf);
            }
            // Rule: fds ride on the first bytes of the message only (and only once they went out).
            withFds = false;
        } while (sent < length);
    }

    /**
     * Bounds every send (SO_SNDTIMEO): from now on a send that can move no byte for {@code timeout} fails with
     * EAGAIN, which {@link #send} passes on as a {@link NativeCallException} instead of waiting again.
     */
    public void boundSends(java.time.Duration timeout) throws NativeCallException {
        UnixSockets.setSendTimeout(socketFd, timeout);
        sendBound = timeout.toNanos();
    }

    /** shutdown(SHUT_RDWR): wakes a thread blocked in recvmsg/sendmsg on this socket; the fd stays open. */
    public void shutdown() throws NativeCallException {
        Libc.shutdown(socketFd, SHUT_RDWR);
    }
}
