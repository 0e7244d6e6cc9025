package io.vfu.transport;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.Fds;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.SocketIo;
import io.vfu.transport.nativeio.UnixSockets;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link Transport} over a connected AF_UNIX stream socket, all through FFM: {@link UnixSockets} sets the
 * socket up (connect, accept4, socketpair, SO_PEERCRED) and every message goes through {@link SocketIo}
 * (recvmsg/sendmsg), whose control buffer takes the kernel's maximum of 253 fds. Only this transport ever
 * closes its socket fd, and received fds belong to whoever takes them. See {@code transport/TRANSPORT.md}.
 *
 * <p>Receive rule: {@link FrameReader} reads as much as the socket holds into a reused native buffer (usually
 * one recvmsg per message or fewer) and attributes each read's fds by the kernel's rule documented there. A
 * header is validated before anything is allocated for its message. A payload that fits the buffer is copied
 * into an exact-size heap buffer that the frame owns; a larger one is read into a native buffer of its own,
 * which the frame then owns.
 *
 * <p>Send rule: header and payload are copied into one reused native buffer under a lock and sent with the
 * fds in one sendmsg, so concurrent senders never interleave.
 *
 * <p>Close: {@link #close()} shuts the socket down (waking a blocked reader or writer), then waits for any
 * call in progress before releasing the fd, so no thread can ever use a recycled fd number.
 */
public final class UnixSocketTransport implements Transport {

    private static final int RETAINED_BUFFER = 64 * 1024;

    private final OwnedFd socket;
    private final TransportLimits limits;
    private final SocketIo in;
    private final SocketIo out;
    private final ReentrantLock receiveLock = new ReentrantLock();
    private final ReentrantLock sendLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private static final int EAGAIN = 11;
    private volatile java.time.Duration sendTimeout;
    private volatile IOException sendFailure;

    private final FrameReader reader;
    /** A message was sent since the reader last asked for one (see {@link #spokeSinceAsked}). */
    private volatile boolean spoke;
    private static final int[] NO_FDS = new int[0];
    private MemorySegment sendBuffer = Arena.ofAuto().allocate(4096, 8);
    /** A little-endian view of {@link #sendBuffer}, replaced with it. */
    private ByteBuffer sendView = sendBuffer.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);

    /** Wraps a connected socket; this transport owns it from now on. */
    private UnixSocketTransport(OwnedFd socket, TransportLimits limits) throws IOException {
        this.socket = socket;
        this.limits = limits;
        int fd = socket.fd();
        // Rule: SocketIo relies on blocking calls; a reader sleeps in recvmsg, and polls (MSG_DONTWAIT) only
        // within the bounded window of pollBeforeReceiving.
        Fds.setBlocking(fd);
        this.in = new SocketIo(fd);
        this.out = new SocketIo(fd);
        this.reader = new FrameReader(in, limits);
    }

    /** A transport over a connected socket, which it owns from now on (closed here if this fails). */
    public static UnixSocketTransport adopt(OwnedFd socket, TransportLimits limits) throws IOException {
        try {
            return new UnixSocketTransport(socket, limits);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Connects to a vfio-user server socket at {@code path}.
     *
     * @throws java.net.ConnectException when nothing listens there
     */
    public static UnixSocketTransport connect(Path path, TransportLimits limits) throws IOException {
        return adopt(UnixSockets.connect(path), limits);
    }

    /** Two connected transports over a socketpair(2). */
    public static UnixSocketTransport[] pair(TransportLimits limits) throws IOException {
        OwnedFd[] p = UnixSockets.pair();
        UnixSocketTransport first;
        try {
            first = adopt(p[0], limits);
        } catch (IOException | RuntimeException e) {
            p[1].close();
            throw e;
        }
        try {
            return new UnixSocketTransport[] {first, adopt(p[1], limits)};
        } catch (IOException | RuntimeException e) {
            first.close();
            throw e;
        }
    }

    /** The peer's pid/uid/gid as the kernel recorded them at connect time (SO_PEERCRED). */
    public PeerCredentials peerCredentials() throws IOException {
        if (closed.get()) {
            throw new ClosedChannelException();
        }
        UnixSockets.Ucred c = UnixSockets.peerCredentials(socket.fd());
        return new PeerCredentials(c.pid(), c.uid(), c.gid());
    }

    @Override
    public TransportLimits limits() {
        return limits;
    }

    /**
     * What the peer has sent so far, looked at without reading it (see {@link UnixSockets#inbound}); for a new
     * connection, before anything has been received through this transport.
     */
    public UnixSockets.Inbound inbound() throws IOException {
        return UnixSockets.inbound(socket.fd());
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public Frame receive() throws IOException, FramingException, TooManyFdsException {
        LentFrame lent = new LentFrame();
        return receive(lent) ? lent.toFrame() : null;
    }

    @Override
    public boolean receive(LentFrame into) throws IOException, FramingException, TooManyFdsException {
        receiveLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            return reader.next(into);
        } catch (IOException | FramingException | RuntimeException e) {
            // Rule: fds received for messages that will not be delivered are closed here, never leaked.
            reader.closePending();
            if (closed.get() && e instanceof NativeCallException) {
                throw new ClosedChannelException();
            }
            throw e;
        } finally {
            receiveLock.unlock();
        }
    }

    @Override
    public void send(Header h, ByteBuffer payload, int... fds) throws IOException {
        Transport.checkSend(h, payload, fds);
        sendMessage(h.msgId(), h.command(), h.size(), h.flags(), h.error(), payload, fds);
    }

    @Override
    public void send(int msgId, int command, long flags, long error, ByteBuffer payload) throws IOException {
        long size = Header.SIZE + (long) payload.remaining();
        // Rule: every field fits its wire width (as the Header record checks), so nothing is truncated.
        if ((msgId & ~0xFFFF) != 0 || (command & ~0xFFFF) != 0 || (size & ~0xFFFF_FFFFL) != 0
                || (flags & ~0xFFFF_FFFFL) != 0 || (error & ~0xFFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("header field out of range: msg_id " + msgId + ", command "
                    + command + ", size " + size + ", flags " + flags + ", error " + error);
        }
        sendMessage(msgId, command, size, flags, error, payload, NO_FDS);
    }

    /** Copies header and payload into the reused send buffer and sends them with the fds in one sendmsg. */
    private void sendMessage(int msgId, int command, long size, long flags, long error, ByteBuffer payload,
            int[] fds) throws IOException {
        int total = (int) size;
        sendLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            MemorySegment buf = sendBuffer;
            ByteBuffer view = sendView;
            if (buf.byteSize() < total) {
                buf = Arena.ofAuto().allocate(total, 8);
                view = buf.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                if (total <= RETAINED_BUFFER) {
                    sendBuffer = buf;
                    sendView = view;
                }
            }
            view.putShort(0, (short) msgId).putShort(2, (short) command).putInt(4, (int) size)
                    .putInt(8, (int) flags).putInt(12, (int) error);
            view.put(Header.SIZE, payload, payload.position(), payload.remaining());
            out.send(buf, total, fds);
            spoke = true;
        } catch (NativeCallException e) {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            throw timedOut(e);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Bounds every send to the peer (see {@link SocketIo#boundSends}): a send that makes no progress for
     * {@code timeout} fails with {@link SendTimeoutException} and shuts the socket down, so the connection ends
     * (its reader sees end of stream) instead of a sender blocking on a peer that stopped reading.
     */
    public void boundSends(java.time.Duration timeout) throws IOException {
        out.boundSends(timeout);
        sendTimeout = timeout;
    }

    /**
     * A send that hit the send bound: the stream may hold part of a message now, so it is shut down for good;
     * any other failure is returned as it is.
     */
    private IOException timedOut(NativeCallException e) {
        if (e.errno() != EAGAIN || sendTimeout == null) {
            return e;
        }
        SendTimeoutException timeout = new SendTimeoutException("the peer read nothing for " + sendTimeout
                + " while a message was being sent");
        sendFailure = timeout;
        try {
            in.shutdown(); // Rule: a broken stream closes the connection; the reader sees end of stream
        } catch (NativeCallException ignored) {
            // already shut down
        }
        return timeout;
    }

    @Override
    public IOException sendFailure() {
        return sendFailure;
    }

    /**
     * Polls the socket before each receive that would block, within {@code polling}'s adaptive window, and
     * counts what polling did in {@code stats}. {@link ReceivePolling#OFF} turns it off. Call it before the
     * first receive (a session sets it on a new connection).
     */
    public void pollBeforeReceiving(ReceivePolling polling, ReceivePollStats stats) {
        reader.poll(polling.enabled()
                ? new AdaptivePoll(polling, java.util.Objects.requireNonNull(stats), this::spokeSinceAsked) : null);
    }

    /**
     * Whether a message went to the peer since the reader last asked, and starts counting afresh. Polling waits
     * only for an answer: after a reply (or a request of ours) the peer's next message tends to follow within
     * microseconds, while a stream of posted messages is better read in batches by a reader that sleeps.
     */
    private boolean spokeSinceAsked() {
        if (!spoke) {
            return false;
        }
        spoke = false;
        return true;
    }

    /** The current polling window in nanoseconds, 0 when not polling (tests and diagnostics). */
    long pollWindow() {
        return reader.pollWindow();
    }

    /** How many recvmsg calls receiving has made so far (tests and diagnostics). */
    long receiveCalls() {
        return reader.calls();
    }

    /**
     * Writes raw bytes with fds in one sendmsg, bypassing framing: for tests that must produce broken or
     * split messages.
     */
    public void sendRaw(byte[] bytes, int... fds) throws IOException {
        sendLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            MemorySegment buf = Arena.ofAuto().allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
            out.send(buf, bytes.length, fds);
        } catch (NativeCallException e) {
            throw timedOut(e);
        } finally {
            sendLock.unlock();
        }
    }

    /** Half-closes the sending direction: the peer sees end of stream after what was sent. */
    public void shutdownOutput() throws IOException {
        sendLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            UnixSockets.shutdownOutput(socket.fd());
        } finally {
            sendLock.unlock();
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            // Wakes a reader blocked in recvmsg (it sees end of stream) and a writer blocked in sendmsg.
            in.shutdown();
        } catch (NativeCallException ignored) {
            // not connected any more: nothing to wake
        }
        // Rule: the fd is released only when no thread can be inside a call on it.
        receiveLock.lock();
        sendLock.lock();
        try {
            // Messages buffered but never delivered: their fds are closed with the transport.
            reader.closePending();
            socket.close();
        } finally {
            sendLock.unlock();
            receiveLock.unlock();
        }
    }
}
