package io.vfu.transport;

import io.vfu.protocol.Header;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The message just received, lent to the reader thread for one dispatch so the steady-state path allocates
 * nothing: the header fields are primitives and {@link #payload()} is a view of the transport's receive
 * buffer. A transport refills the same instance on every receive, so nothing here may be kept past the
 * dispatch; {@link #toFrame()} turns it into a {@link Frame} that can be kept (copying the payload if it is
 * borrowed).
 *
 * <p>Two states: <em>borrowed</em> (no fds; the payload lies in the receive buffer and is overwritten by the
 * next receive) and <em>owned</em> (the transport had to build a {@link Frame}: the message carried fds, was
 * larger than the receive buffer, or came from a transport without a buffer of its own). Either way the
 * accessors read the same.
 */
public final class LentFrame {

    private int msgId;
    private int command;
    private long size;
    private long flags;
    private long error;
    private ByteBuffer payload;
    private Frame owned;

    /** Lends message bytes that stay in the receive buffer: {@code view}'s position..limit is the payload. */
    void borrow(int msgId, int command, long size, long flags, long error, ByteBuffer view) {
        release();
        this.msgId = msgId;
        this.command = command;
        this.size = size;
        this.flags = flags;
        this.error = error;
        this.payload = view;
    }

    /** Lends a frame the transport built; it is closed by {@link #release} unless taken by {@link #toFrame}. */
    void own(Frame frame) {
        release();
        Header h = frame.header();
        this.msgId = h.msgId();
        this.command = h.command();
        this.size = h.size();
        this.flags = h.flags();
        this.error = h.error();
        this.payload = frame.payload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.owned = frame;
    }

    public int msgId() {
        return msgId;
    }

    public int command() {
        return command;
    }

    /** Whole message size, header included. */
    public long size() {
        return size;
    }

    public long flags() {
        return flags;
    }

    public long error() {
        return error;
    }

    public boolean isReply() {
        return (flags & Header.TYPE_MASK) == Header.TYPE_REPLY;
    }

    public boolean noReply() {
        return (flags & Header.FLAG_NO_REPLY) != 0;
    }

    public boolean isError() {
        return (flags & Header.FLAG_ERROR) != 0;
    }

    /**
     * The payload: exactly {@code size - 16} bytes from its position to its limit, little-endian. The position
     * need not be 0 (read it with absolute indexes from {@code position()}); the caller may move position and
     * limit. Valid until the next receive.
     */
    public ByteBuffer payload() {
        return payload;
    }

    /** How many fds arrived with the message (only an owned frame can have any). */
    public int fdCount() {
        return owned == null ? 0 : owned.fds().count();
    }

    /** The header as a record (allocates; for cold paths). */
    public Header header() {
        return owned != null ? owned.header() : new Header(msgId, command, size, flags, error);
    }

    /**
     * The message as a {@link Frame} the caller owns and must close: the transport's own frame if there is
     * one (ownership passes), else a copy of the borrowed bytes. After this the lent frame holds nothing.
     */
    public Frame toFrame() {
        Frame f = owned;
        if (f == null) {
            byte[] copy = new byte[payload.remaining()];
            payload.get(payload.position(), copy);
            f = new Frame(header(), ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN), ReceivedFds.none());
        }
        owned = null;
        payload = null;
        return f;
    }

    /** Ends the loan: an owned frame nobody took is closed (its fds). */
    void release() {
        Frame f = owned;
        owned = null;
        payload = null;
        if (f != null) {
            f.close();
        }
    }
}
