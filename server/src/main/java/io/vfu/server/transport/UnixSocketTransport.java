package io.vfu.server.transport;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.server.nativeio.Fds;
import io.vfu.server.nativeio.NativeCallException;
import io.vfu.server.nativeio.OwnedFd;
import io.vfu.server.nativeio.SocketIo;
import java.io.EOFException;
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
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.newsclub.net.unix.AFUNIXSocketPair;

/**
 * {@link Transport} over a connected AF_UNIX stream socket. junixsocket sets the socket up (connect, accept,
 * socketpair, SO_PEERCRED); every message goes through {@link SocketIo} (recvmsg/sendmsg via FFM) because
 * junixsocket 2.10.1 caps its control buffer at 256 bytes (60 fds; beyond that it throws after consuming the
 * bytes, leaking the fds and desynchronising the stream) and closes every received fd still valid when the
 * socket closes (which would double-close fds our handlers own). See {@code server/TRANSPORT.md}.
 *
 * <p>Receive rule (spec "Header"; QEMU does the same): the first recvmsg asks for exactly the 16 header bytes
 * and picks up the fds; the header is validated before anything is allocated; then exactly {@code size - 16}
 * payload bytes are read. No read crosses a message boundary, so fds attach to the message whose first byte
 * they were sent with. Header and payload land in a reused native buffer; the payload is then copied into one
 * exact-size heap buffer that the frame owns.
 *
 * <p>Send rule: header and payload are copied into one reused native buffer under a lock and sent with the
 * fds in one sendmsg, so concurrent senders never interleave.
 *
 * <p>Close: {@link #close()} shuts the socket down (waking a blocked reader or writer), then waits for any
 * call in progress before releasing the fd, so no thread can ever use a recycled fd number.
 */
public final class UnixSocketTransport implements Transport {

    private static final int RETAINED_BUFFER = 64 * 1024;
    private static final int ECONNRESET = 104;

    private final AFUNIXSocketChannel channel;
    private final TransportLimits limits;
    private final SocketIo in;
    private final SocketIo out;
    private final ReentrantLock receiveLock = new ReentrantLock();
    private final ReentrantLock sendLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private static final int[] NONE = new int[0];

    /** Fds received for the message being read; owned here until it is delivered or refused. */
    private int[] held = NONE;
    /** The kernel cut this message's control data (cannot happen with SocketIo's 253-fd buffer; refused if so). */
    private boolean truncated;
    private MemorySegment receiveBuffer = Arena.ofAuto().allocate(4096, 8);
    private MemorySegment sendBuffer = Arena.ofAuto().allocate(4096, 8);

    /** Wraps a connected blocking channel; this transport owns it from now on. */
    public UnixSocketTransport(AFUNIXSocketChannel channel, TransportLimits limits) throws IOException {
        this.channel = channel;
        this.limits = limits;
        // Fd reception is done by SocketIo; junixsocket must never pick fds up itself.
        channel.setAncillaryReceiveBufferSize(0);
        int fd = Fds.toInt(channel.getFileDescriptor());
        // Rule: SocketIo relies on blocking calls; a reader must sleep in recvmsg, not spin on EAGAIN.
        Fds.setBlocking(fd);
        this.in = new SocketIo(fd);
        this.out = new SocketIo(fd);
    }

    /** Connects to a vfio-user server socket at {@code path}. */
    public static UnixSocketTransport connect(Path path, TransportLimits limits) throws IOException {
        AFUNIXSocketChannel ch = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path));
        return new UnixSocketTransport(ch, limits);
    }

    /** Two connected transports over a socketpair(2). */
    public static UnixSocketTransport[] pair(TransportLimits limits) throws IOException {
        AFUNIXSocketPair<AFUNIXSocketChannel> p = AFUNIXSocketPair.open();
        return new UnixSocketTransport[] {
            new UnixSocketTransport(p.getSocket1(), limits), new UnixSocketTransport(p.getSocket2(), limits)};
    }

    /** The peer's pid/uid/gid as the kernel recorded them at connect time (SO_PEERCRED). */
    public PeerCredentials peerCredentials() throws IOException {
        AFUNIXSocketCredentials c = channel.getPeerCredentials();
        return new PeerCredentials(c.getPid(), c.getUid(), c.getGid());
    }

    @Override
    public TransportLimits limits() {
        return limits;
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public Frame receive() throws IOException, FramingException, TooManyFdsException {
        receiveLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            long first;
            try {
                first = in.receive(receiveBuffer, 0, Header.SIZE);
            } catch (NativeCallException e) {
                if (e.errno() != ECONNRESET) {
                    throw e;
                }
                // The peer closed with our data unread: between messages that is just a disconnect.
                first = 0;
            }
            held = in.takeFds();
            truncated = in.truncated();
            if (first == 0) {
                // Clean end of stream on a message boundary (no fds can come with zero bytes).
                closeHeld();
                return null;
            }
            readFully(first, Header.SIZE, "header");
            Header h = Header.decode(receiveBuffer.asSlice(0, Header.SIZE).asByteBuffer())
                    .validate(limits.maxMessageSize());
            int total = (int) h.size();
            if (receiveBuffer.byteSize() < total) {
                MemorySegment bigger = Arena.ofAuto().allocate(total, 8);
                MemorySegment.copy(receiveBuffer, 0, bigger, 0, Header.SIZE);
                receiveBuffer = bigger;
            }
            readFully(Header.SIZE, total, "payload");
            ByteBuffer payload = ByteBuffer.allocate(total - Header.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            MemorySegment.copy(receiveBuffer, ValueLayout.JAVA_BYTE, Header.SIZE,
                    payload.array(), 0, total - Header.SIZE);
            if (receiveBuffer.byteSize() > RETAINED_BUFFER) {
                receiveBuffer = Arena.ofAuto().allocate(4096, 8);
            }
            if (held.length > limits.maxMsgFds() || truncated) {
                int got = truncated ? -1 : held.length;
                closeHeld();
                throw new TooManyFdsException(h, got, limits.maxMsgFds());
            }
            ReceivedFds fds = held.length == 0 ? ReceivedFds.none() : ReceivedFds.adopt(held);
            held = NONE;
            return new Frame(h, payload, fds);
        } catch (IOException | FramingException | RuntimeException e) {
            // Rule: an fd received with a message that is not delivered is closed here, never leaked.
            closeHeld();
            if (closed.get() && e instanceof NativeCallException) {
                throw new ClosedChannelException();
            }
            throw e;
        } finally {
            receiveLock.unlock();
        }
    }

    /** Reads until {@code end} bytes of the message are in the receive buffer, collecting any fds. */
    private void readFully(long have, long end, String what) throws IOException {
        while (have < end) {
            long n;
            try {
                n = in.receive(receiveBuffer, have, end - have);
            } catch (NativeCallException e) {
                if (e.errno() != ECONNRESET) {
                    throw e;
                }
                n = 0;
            }
            held = concat(held, in.takeFds());
            truncated |= in.truncated();
            if (n == 0) {
                throw new EOFException("peer closed in the middle of a message " + what + " (" + have
                        + " of " + end + " bytes)");
            }
            have += n;
        }
    }

    private void closeHeld() {
        int[] h = held;
        held = NONE;
        for (int fd : h) {
            OwnedFd.closeRaw(fd);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        if (b.length == 0) {
            return a;
        }
        if (a.length == 0) {
            return b;
        }
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Override
    public void send(Header h, ByteBuffer payload, int... fds) throws IOException {
        Transport.checkSend(h, payload, fds);
        int total = (int) h.size();
        sendLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            MemorySegment buf = sendBuffer;
            if (buf.byteSize() < total) {
                buf = Arena.ofAuto().allocate(total, 8);
                if (total <= RETAINED_BUFFER) {
                    sendBuffer = buf;
                }
            }
            h.encode(buf.asSlice(0, Header.SIZE).asByteBuffer());
            MemorySegment.copy(MemorySegment.ofBuffer(payload), 0, buf, Header.SIZE, payload.remaining());
            out.send(buf, total, fds);
        } catch (NativeCallException e) {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            throw e;
        } finally {
            sendLock.unlock();
        }
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
        } finally {
            sendLock.unlock();
        }
    }

    /** Half-closes the sending direction: the peer sees end of stream after what was sent. */
    public void shutdownOutput() throws IOException {
        sendLock.lock();
        try {
            channel.shutdownOutput();
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
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        } finally {
            sendLock.unlock();
            receiveLock.unlock();
        }
    }
}
