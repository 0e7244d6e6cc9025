package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16-byte header that starts every vfio-user message (spec "Header"):
 * {@code msg_id u16 | command u16 | size u32 | flags u32 | error u32}, host (little-endian) order.
 * Unsigned fields are widened (u16 to int, u32 to long) so no raw signed value escapes.
 *
 * @param msgId   message id chosen by the sender, echoed in the reply
 * @param command command number (may be one we do not know; see {@link Command#fromCode})
 * @param size    whole message size in bytes, header included
 * @param flags   type (bits 0-3), No_reply (bit 4), Error (bit 5)
 * @param error   errno of an error reply; reserved (zero) in commands
 */
public record Header(int msgId, int command, long size, long flags, long error) {

    /** Size of the header on the wire. */
    public static final int SIZE = 16;

    public static final int TYPE_MASK = 0xF;
    public static final int TYPE_COMMAND = 0x0;
    public static final int TYPE_REPLY = 0x1;
    public static final int FLAG_NO_REPLY = 0x10;
    public static final int FLAG_ERROR = 0x20;

    public Header {
        // Rule: every field fits its wire width, so encode never truncates.
        if ((msgId & ~0xFFFF) != 0 || (command & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("msg_id and command are u16");
        }
        if ((size & ~0xFFFF_FFFFL) != 0 || (flags & ~0xFFFF_FFFFL) != 0 || (error & ~0xFFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("size, flags and error are u32");
        }
    }

    public static Header command(int msgId, Command command, long size, boolean noReply) {
        return new Header(msgId, command.code(), size, noReply ? FLAG_NO_REPLY : TYPE_COMMAND, 0);
    }

    public static Header reply(int msgId, int command, long size) {
        return new Header(msgId, command, size, TYPE_REPLY, 0);
    }

    /** An error reply: the header alone, Error flag set, positive errno. */
    public static Header errorReply(int msgId, int command, Errno errno) {
        return new Header(msgId, command, SIZE, TYPE_REPLY | FLAG_ERROR, errno.code());
    }

    public int type() {
        return (int) (flags & TYPE_MASK);
    }

    public boolean isCommand() {
        return type() == TYPE_COMMAND;
    }

    public boolean isReply() {
        return type() == TYPE_REPLY;
    }

    public boolean noReply() {
        return (flags & FLAG_NO_REPLY) != 0;
    }

    public boolean isError() {
        return (flags & FLAG_ERROR) != 0;
    }

    /** Payload size (bytes after the header). Only meaningful once {@link #validate} has passed. */
    public int payloadSize() {
        return (int) (size - SIZE);
    }

    /**
     * Checks framing: a type we know and {@code 16 <= size <= maxMessageSize}. A violation means the stream
     * cannot be resynchronised, so it is a {@link FramingException}.
     */
    public Header validate(long maxMessageSize) throws FramingException {
        checkFraming(size, flags, maxMessageSize);
        return this;
    }

    /**
     * The framing rules of {@link #validate} on raw header fields, for readers that parse headers in place
     * without building a record.
     */
    public static void checkFraming(long size, long flags, long maxMessageSize) throws FramingException {
        int type = (int) (flags & TYPE_MASK);
        if (size < SIZE) {
            throw new FramingException("message size " + size + " is smaller than the header");
        }
        if (size > maxMessageSize) {
            throw new FramingException("message size " + size + " exceeds the maximum " + maxMessageSize);
        }
        if (type != TYPE_COMMAND && type != TYPE_REPLY) {
            throw new FramingException("unknown message type " + type);
        }
    }

    /** Reads a header from the next 16 bytes of {@code buf} (little-endian regardless of buffer order). */
    public static Header decode(ByteBuffer buf) throws FramingException {
        if (buf.remaining() < SIZE) {
            throw new FramingException("truncated header: " + buf.remaining() + " bytes");
        }
        ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        Header h = new Header(
                Short.toUnsignedInt(b.getShort(0)),
                Short.toUnsignedInt(b.getShort(2)),
                Integer.toUnsignedLong(b.getInt(4)),
                Integer.toUnsignedLong(b.getInt(8)),
                Integer.toUnsignedLong(b.getInt(12)));
        buf.position(buf.position() + SIZE);
        return h;
    }

    /** Writes this header as the next 16 bytes of {@code buf}. */
    public void encode(ByteBuffer buf) {
        ByteOrder saved = buf.order();
        buf.order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) msgId)
                .putShort((short) command)
                .putInt((int) size)
                .putInt((int) flags)
                .putInt((int) error);
        buf.order(saved);
    }
}
