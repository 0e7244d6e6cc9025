package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes a {@link Message} as header plus payload. {@link #encodedSize} tells callers how big a buffer to
 * take from a pool first. Data payloads are copied once, from the record's view into the output.
 */
public final class MessageEncoder {

    private MessageEncoder() {
    }

    /** Whole message size in bytes, header included. */
    public static int encodedSize(Message m) {
        if (m instanceof Unknown) {
            throw new IllegalArgumentException("an unknown message cannot be encoded");
        }
        return Math.addExact(Header.SIZE, m.payloadSize());
    }

    /** The header this message is sent with. {@code extraFlags} may hold {@link Header#FLAG_NO_REPLY}. */
    public static Header header(int msgId, Message m, int extraFlags) {
        if ((extraFlags & ~Header.FLAG_NO_REPLY) != 0) {
            throw new IllegalArgumentException("only No_reply may be added: 0x" + Integer.toHexString(extraFlags));
        }
        int size = encodedSize(m);
        return switch (m) {
            case Message.Request r -> new Header(msgId, r.commandCode(), size,
                    Header.TYPE_COMMAND | extraFlags, 0);
            case Message.Reply r -> new Header(msgId, r.commandCode(), size, Header.TYPE_REPLY, 0);
            case ErrorReply e -> new Header(msgId, e.command(), Header.SIZE,
                    Header.TYPE_REPLY | Header.FLAG_ERROR, e.errno());
            case Unknown u -> throw new IllegalArgumentException("an unknown message cannot be encoded");
        };
    }

    /**
     * Writes the message at {@code out}'s position and advances it by {@link #encodedSize}. The buffer's byte
     * order is left as it was.
     *
     * @throws java.nio.BufferOverflowException if {@code out} has less room than {@link #encodedSize}
     */
    public static void encode(int msgId, Message m, int extraFlags, ByteBuffer out) {
        Header h = header(msgId, m, extraFlags);
        if (out.remaining() < h.size()) {
            throw new java.nio.BufferOverflowException();
        }
        ByteOrder saved = out.order();
        h.encode(out);
        out.order(ByteOrder.LITTLE_ENDIAN);
        int start = out.position();
        m.writePayload(out);
        out.order(saved);
        if (out.position() - start != h.payloadSize()) {
            throw new IllegalStateException(m.getClass().getName() + " wrote " + (out.position() - start)
                    + " bytes, declared " + h.payloadSize());
        }
    }

    /**
     * The payload alone (no header), little-endian, flipped for reading: for transports that write the header
     * themselves.
     */
    public static ByteBuffer payload(Message m) {
        ByteBuffer out = ByteBuffer.allocate(m.payloadSize()).order(ByteOrder.LITTLE_ENDIAN);
        m.writePayload(out);
        if (out.hasRemaining()) {
            throw new IllegalStateException(m.getClass().getName() + " wrote " + out.position()
                    + " bytes, declared " + m.payloadSize());
        }
        return out.flip();
    }

    /** Encodes into a new heap buffer, flipped for reading. */
    public static ByteBuffer encode(int msgId, Message m, int extraFlags) {
        ByteBuffer out = ByteBuffer.allocate(encodedSize(m));
        encode(msgId, m, extraFlags, out);
        return out.flip();
    }

    /**
     * Hot path, zero intermediate copy: writes the header and fixed fields of a REGION_READ reply carrying
     * {@code count} data bytes, advances {@code out} past the whole message and returns a writable view of
     * the data area for the device to fill in place.
     */
    public static ByteBuffer regionReadReplyInPlace(int msgId, long offset, long region, int count,
                                                    ByteBuffer out) {
        Checks.u32(region, "region");
        return inPlace(new Header(msgId, Command.REGION_READ.code(), Header.SIZE + RegionRead.FIXED + (long) count,
                Header.TYPE_REPLY, 0), out, b -> b.putLong(offset).putInt((int) region).putInt(count), count);
    }

    /**
     * Hot path, zero intermediate copy: writes the header and fixed fields of a DMA_WRITE request carrying
     * {@code count} data bytes and returns a writable view of the data area (see
     * {@link #regionReadReplyInPlace}).
     */
    public static ByteBuffer dmaWriteRequestInPlace(int msgId, long address, int count, ByteBuffer out) {
        return inPlace(new Header(msgId, Command.DMA_WRITE.code(), Header.SIZE + DmaWrite.FIXED + (long) count,
                Header.TYPE_COMMAND, 0), out, b -> b.putLong(address).putLong(count), count);
    }

    private static ByteBuffer inPlace(Header h, ByteBuffer out, java.util.function.Consumer<ByteBuffer> fixed,
                                      int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count " + count);
        }
        if (out.remaining() < h.size()) {
            throw new java.nio.BufferOverflowException();
        }
        ByteOrder saved = out.order();
        h.encode(out);
        fixed.accept(out.order(ByteOrder.LITTLE_ENDIAN));
        out.order(saved);
        ByteBuffer data = out.slice(out.position(), count);
        out.position(out.position() + count);
        return data;
    }
}
