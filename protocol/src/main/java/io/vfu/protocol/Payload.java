package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bounds-checked little-endian reader over exactly one message payload (the bytes after the header).
 * Every read is absolute and checked against {@link #size()} first, so a hostile length can never make the
 * decoder read past the payload or allocate before the bytes have been shown to be present.
 */
final class Payload {

    private final ByteBuffer buf;

    Payload(ByteBuffer payload) {
        this.buf = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    int size() {
        return buf.limit();
    }

    /** The payload bytes, little-endian, position 0 (for the in-place request views; not to be moved). */
    ByteBuffer buffer() {
        return buf;
    }

    int u16(int off) throws MessageException {
        check(off, 2);
        return Short.toUnsignedInt(buf.getShort(off));
    }

    long u32(int off) throws MessageException {
        check(off, 4);
        return Integer.toUnsignedLong(buf.getInt(off));
    }

    /** A u64 as the raw 64 bits; callers compare it with {@link Long#compareUnsigned}. */
    long u64(int off) throws MessageException {
        check(off, 8);
        return buf.getLong(off);
    }

    /** A read-only zero-copy view of {@code len} bytes at {@code off}. */
    ByteBuffer bytes(int off, int len) throws MessageException {
        check(off, len);
        return buf.slice(off, len).asReadOnlyBuffer();
    }

    /** Rule: the payload is exactly the fixed structure; anything else is an inconsistent length (EINVAL). */
    void requireSize(long expected, String what) throws MessageException {
        Checks.size(size(), expected, what);
    }

    /** Rule: the payload holds at least the fixed part (EINVAL otherwise). */
    void requireAtLeast(long min, String what) throws MessageException {
        Checks.sizeAtLeast(size(), min, what);
    }

    private void check(int off, int len) throws MessageException {
        // Rule: offset and length lie inside the payload; written as off > size - len so it cannot overflow.
        if (off < 0 || len < 0 || len > size() || off > size() - len) {
            throw Checks.inval("read of " + len + " bytes at " + off + " outside a " + size() + "-byte payload");
        }
    }
}
