package io.vfu.transport;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.SocketIo;
import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Buffered receive side of {@link UnixSocketTransport}: one recvmsg takes as many bytes as the socket holds
 * (up to the buffer), and whole messages are then cut out of a reused native buffer, so a burst of small
 * messages costs one system call instead of two per message. Used by one thread at a time (the transport's
 * receive lock).
 *
 * <p><b>Which message the fds of a read belong to.</b> Linux {@code net/unix/af_unix.c}: {@code
 * unix_stream_sendmsg} attaches a sendmsg's fds to its <em>first</em> skb only ("Only send the fds in the first
 * buffer"); {@code unix_stream_read_generic} copies across skbs, and as soon as it consumes any part of an skb
 * that carries fds it detaches them into this call ({@code unix_detach_fds}) and stops after that skb ({@code
 * if (unix_skb_len(skb)) break;} / {@code if (scm.fp) break;}). So one recvmsg returns at most one sender's
 * fds, they came with the <em>last</em> skb this read touched, and that skb's first byte lies in the bytes this
 * read returned (an earlier read touching it would have taken the fds).
 *
 * <p>Assumption (holds for QEMU, libvfio-user and our own {@link UnixSocketTransport#send}): <em>a sendmsg that
 * carries fds holds bytes of one message only</em>, the message the fds belong to. Header and payload may come
 * in separate sendmsg calls and the fds on either. Then, for a read that returned stream bytes {@code [s, e)}:
 * if some message starts in {@code [s, e)}, the fds belong to the last such message (the fd skb is the last
 * skb read, lies inside one message, so no later message can start before {@code e}); otherwise every byte of
 * the read is in the message that was being assembled and the fds are its own. The rule needs no guess about
 * where the sender's sendmsg boundaries were. A sender that packs several messages with fds into one sendmsg
 * breaks the assumption and is not supported (the old one-header-read framing would have handled it; no known
 * vfio-user peer does it).
 *
 * <p>Messages larger than the buffer are finished in a buffer of their own, by reads that never go past the
 * message's end. Fds of a message whose bytes have not all arrived wait in {@link #pending} until it does;
 * they are closed if it never does.
 */
final class FrameReader {

    /** Reused buffer: 64 KiB of messages plus room for one 4 KiB command layout. */
    static final int CAPACITY = 64 * 1024 + 4096;
    /** Compact before a read that would find less room than this at the end of the buffer. */
    private static final int MIN_READ = 4096;
    private static final int ECONNRESET = 104;
    private static final int[] NONE = new int[0];
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final SocketIo io;
    /** Polling before a receive blocks; null for none. Set before the reader starts (see the transport). */
    private volatile AdaptivePoll poll;
    private final TransportLimits limits;
    private final MemorySegment buf = Arena.ofAuto().allocate(CAPACITY, 8);
    /** The view lent frames read their payload through (position and limit set per message). */
    private final ByteBuffer lent = buf.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    /** buf[head, tail) holds received bytes not yet delivered; head is always a message start. */
    private int head;
    private int tail;
    /** Stream offset of buf[0]: message starts are identified by stream offset. */
    private long base;
    private long calls;
    /** Fds received for messages not yet delivered, in stream order (at most two entries in practice). */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>(2);

    /** The fds that belong to the message starting at stream offset {@code at}. */
    private static final class Pending {
        final long at;
        int[] fds;
        boolean truncated;

        Pending(long at) {
            this.at = at;
        }
    }

    FrameReader(SocketIo io, TransportLimits limits) {
        this.io = io;
        this.limits = limits;
    }

    /**
     * Lends the next whole message to {@code into}: borrowed from the buffer when it fits and carries no fds
     * (nothing is allocated), else as a frame of its own.
     *
     * @return false at a clean end of stream on a message boundary
     */
    boolean next(LentFrame into) throws NativeCallException, EOFException, FramingException, TooManyFdsException {
        while (true) {
            int have = tail - head;
            long need = Header.SIZE;
            if (have >= Header.SIZE) {
                // Rule: the header is checked in place before anything is allocated for its message.
                long size = Integer.toUnsignedLong(buf.get(U32, head + 4));
                long flags = Integer.toUnsignedLong(buf.get(U32, head + 8));
                Header.checkFraming(size, flags, limits.maxMessageSize());
                need = size;
                if (have >= need) {
                    deliver(into, size, flags);
                    return true;
                }
                if (need > CAPACITY) {
                    into.own(readLarge(header(head)));
                    return true;
                }
            }
            if (!fill((int) need)) {
                return false;
            }
        }
    }

    private Header header(int at) {
        return new Header(Short.toUnsignedInt(buf.get(U16, at)), Short.toUnsignedInt(buf.get(U16, at + 2)),
                Integer.toUnsignedLong(buf.get(U32, at + 4)), Integer.toUnsignedLong(buf.get(U32, at + 8)),
                Integer.toUnsignedLong(buf.get(U32, at + 12)));
    }

    /**
     * One recvmsg into the free end of the buffer (compacting first if the message would not fit); the head
     * message is incomplete, so buf[head, tail) holds only its bytes.
     *
     * @return false at a clean end of stream (nothing buffered, nothing pending)
     */
    private boolean fill(int need) throws NativeCallException, EOFException {
        if (head > 0 && (head + need > CAPACITY || CAPACITY - tail < MIN_READ)) {
            MemorySegment.copy(buf, head, buf, 0, tail - head);
            base += head;
            tail -= head;
            head = 0;
        }
        long s = base + tail;
        long n = receive(buf, tail, CAPACITY - tail);
        int[] fds = io.takeFds();
        boolean truncated = io.truncated();
        if (n == 0) {
            closeRaw(fds);
            if (head == tail && pending.isEmpty()) {
                return false;
            }
            throw new EOFException("peer closed in the middle of a message (" + (tail - head) + " of " + need
                    + " bytes)");
        }
        tail += (int) n;
        if (fds.length > 0 || truncated) {
            hold(owner(s, base + tail), fds, truncated);
        }
        return true;
    }

    /**
     * The start of the message the fds of a read that returned stream bytes [s, e) belong to: the last
     * message starting in [s, e), else the head message (which holds every byte of the read).
     */
    private long owner(long s, long e) {
        long owner = base + head;
        long pos = base + head;
        while (pos < e) {
            if (pos >= s) {
                owner = pos;
            }
            int i = (int) (pos - base);
            if (i + Header.SIZE > tail) {
                break;
            }
            long size = Integer.toUnsignedLong(buf.get(U32, i + 4));
            if (size < Header.SIZE) {
                // A framing error: it is raised when this message is reached; the fds stay with it.
                break;
            }
            pos += size;
        }
        return owner;
    }

    /** Finishes a message larger than the buffer in its own segment; no read goes past its end. */
    private Frame readLarge(Header h) throws NativeCallException, EOFException, TooManyFdsException {
        long at = base + head;
        int total = (int) h.size();
        MemorySegment own = Arena.ofAuto().allocate(total, 8);
        int got = tail - head;
        MemorySegment.copy(buf, head, own, 0, got);
        // The buffer is now empty; its next byte is this message's end.
        base = at + total;
        head = 0;
        tail = 0;
        while (got < total) {
            long n = receive(own, got, total - got);
            int[] fds = io.takeFds();
            boolean truncated = io.truncated();
            if (n == 0) {
                closeRaw(fds);
                throw new EOFException("peer closed in the middle of a message (" + got + " of " + total
                        + " bytes)");
            }
            got += (int) n;
            // Every byte of this read is inside the message: its fds are the message's own.
            if (fds.length > 0 || truncated) {
                hold(at, fds, truncated);
            }
        }
        ByteBuffer payload = own.asSlice(Header.SIZE).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return frame(h, at, payload);
    }

    /**
     * Hands out the whole message at head. Without fds it is lent in place: the bytes stay valid until the next
     * {@link #fill}, which only runs when the caller asks for the next message. With fds its payload is copied
     * into a frame that owns it and them.
     */
    private void deliver(LentFrame into, long size, long flags) throws TooManyFdsException {
        long at = base + head;
        int start = head;
        int total = (int) size;
        head += total;
        if (head == tail) {
            // Everything delivered: the next read starts at the front (the bytes just lent stay untouched).
            base += head;
            head = 0;
            tail = 0;
        }
        Pending p = pending.peekFirst();
        if (p != null && p.at <= at) {
            byte[] bytes = new byte[total - Header.SIZE];
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, start + Header.SIZE, bytes, 0, bytes.length);
            into.own(frame(header(start), at, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
            return;
        }
        lent.clear().position(start + Header.SIZE).limit(start + total);
        into.borrow(Short.toUnsignedInt(buf.get(U16, start)), Short.toUnsignedInt(buf.get(U16, start + 2)), size,
                flags, Integer.toUnsignedLong(buf.get(U32, start + 12)), lent);
    }

    private Frame frame(Header h, long at, ByteBuffer payload) throws TooManyFdsException {
        Pending p = pending.peekFirst();
        int[] fds = NONE;
        boolean truncated = false;
        if (p != null) {
            if (p.at < at) {
                // Cannot happen: every message start is delivered in order. Refuse rather than guess.
                closePending();
                throw new IllegalStateException("fds held for stream offset " + p.at + " past message at " + at);
            }
            if (p.at == at) {
                pending.removeFirst();
                fds = p.fds;
                truncated = p.truncated;
            }
        }
        if (fds.length > limits.maxMsgFds() || truncated) {
            closeRaw(fds);
            throw new TooManyFdsException(h, truncated ? -1 : fds.length, limits.maxMsgFds());
        }
        return new Frame(h, payload, fds.length == 0 ? ReceivedFds.none() : ReceivedFds.adopt(fds));
    }

    private void hold(long at, int[] fds, boolean truncated) {
        Pending last = pending.peekLast();
        if (last == null || last.at != at) {
            last = new Pending(at);
            last.fds = NONE;
            pending.addLast(last);
        }
        if (last.fds.length == 0) {
            last.fds = fds;
        } else if (fds.length > 0) {
            int[] merged = java.util.Arrays.copyOf(last.fds, last.fds.length + fds.length);
            System.arraycopy(fds, 0, merged, last.fds.length, fds.length);
            last.fds = merged;
        }
        last.truncated |= truncated;
    }

    /** Polls with {@code p} before each receive that would block from now on; null to stop. */
    void poll(AdaptivePoll p) {
        poll = p;
    }

    /** The current polling window, 0 when not polling (tests and diagnostics). */
    long pollWindow() {
        AdaptivePoll p = poll;
        return p == null ? 0 : p.window();
    }

    /** How many reads this reader has made (one may poll with several non-blocking recvmsg; diagnostics). */
    long calls() {
        return calls;
    }

    private long receive(MemorySegment into, long offset, long length) throws NativeCallException {
        calls++;
        try {
            AdaptivePoll p = poll;
            return p == null ? io.receive(into, offset, length) : p.receive(io, into, offset, length);
        } catch (NativeCallException e) {
            if (e.errno() != ECONNRESET) {
                throw e;
            }
            // The peer closed with our data unread: treated as end of stream.
            return 0;
        }
    }

    /** Closes every fd held for messages not delivered (framing error, end of stream, close). */
    void closePending() {
        Pending p;
        while ((p = pending.pollFirst()) != null) {
            closeRaw(p.fds);
        }
    }

    private static void closeRaw(int[] fds) {
        for (int fd : fds) {
            OwnedFd.closeRaw(fd);
        }
    }
}
