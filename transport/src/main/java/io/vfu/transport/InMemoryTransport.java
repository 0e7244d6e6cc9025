package io.vfu.transport;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.OwnedFd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Transport} pair joined by queues, for unit tests of code above the socket. Each send is delivered
 * whole, with the fds duplicated as SCM_RIGHTS would (the receiver owns the copies); receive applies the same
 * header validation and fd limit as the socket transport.
 */
public final class InMemoryTransport implements Transport {

    private record Packet(byte[] bytes, int[] fds) {
    }

    private static final Packet EOF = new Packet(new byte[0], new int[0]);

    private final TransportLimits limits;
    private final LinkedBlockingQueue<Packet> inbox = new LinkedBlockingQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private InMemoryTransport peer;

    private InMemoryTransport(TransportLimits limits) {
        this.limits = limits;
    }

    /** Two connected endpoints. */
    public static InMemoryTransport[] pair(TransportLimits limits) {
        InMemoryTransport a = new InMemoryTransport(limits);
        InMemoryTransport b = new InMemoryTransport(limits);
        a.peer = b;
        b.peer = a;
        return new InMemoryTransport[] {a, b};
    }

    @Override
    public Frame receive() throws IOException, FramingException, TooManyFdsException {
        Packet p;
        try {
            p = inbox.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException();
        }
        if (p == EOF) {
            inbox.add(EOF);
            return null;
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(p.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            Header h = Header.decode(buf).validate(limits.maxMessageSize());
            if (buf.remaining() != h.payloadSize()) {
                throw new FramingException("packet of " + p.bytes().length + " bytes, header says " + h.size());
            }
            if (p.fds().length > limits.maxMsgFds()) {
                closeAll(p.fds());
                throw new TooManyFdsException(h, p.fds().length, limits.maxMsgFds());
            }
            return new Frame(h, buf.slice().order(ByteOrder.LITTLE_ENDIAN), ReceivedFds.adopt(p.fds()));
        } catch (FramingException | RuntimeException e) {
            closeAll(p.fds());
            throw e;
        }
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            OwnedFd.closeRaw(fd);
        }
    }

    @Override
    public void send(Header header, ByteBuffer payload, int... fds) throws IOException {
        Transport.checkSend(header, payload, fds);
        if (closed.get() || peer.closed.get()) {
            throw new ClosedChannelException();
        }
        ByteBuffer b = ByteBuffer.allocate((int) header.size()).order(ByteOrder.LITTLE_ENDIAN);
        header.encode(b);
        b.put(payload.duplicate());
        int[] copies = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            copies[i] = OwnedFd.dupOf(fds[i]).release();
        }
        peer.inbox.add(new Packet(b.array(), copies));
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
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // Undelivered fds die with the connection, as in a socket's receive queue.
            for (Packet p; (p = inbox.poll()) != null; ) {
                closeAll(p.fds());
            }
            inbox.add(EOF);
            peer.inbox.add(EOF);
        }
    }
}
