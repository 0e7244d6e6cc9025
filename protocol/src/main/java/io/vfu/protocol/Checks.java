package io.vfu.protocol;

/** Named validation rules shared by the per-command codecs. Each throws a {@link MessageException}. */
final class Checks {

    private Checks() {
    }

    static MessageException inval(String msg) {
        return new MessageException(Errno.EINVAL, msg);
    }

    /** Rule: a message that carries no descriptors must arrive with none (EINVAL). */
    static void noFds(int fdCount, String what) throws MessageException {
        fds(fdCount, 0, what);
    }

    /** Rule: the number of received descriptors is exactly what the message body implies (EINVAL). */
    static void fds(int fdCount, long expected, String what) throws MessageException {
        if (fdCount != expected) {
            throw inval(what + ": carries " + fdCount + " fds, expected " + expected);
        }
    }

    /** Rule: data transfers never exceed the negotiated max_data_xfer_size (E2BIG); {@code count} is unsigned. */
    static void xfer(long count, Limits limits, String what) throws MessageException {
        if (Long.compareUnsigned(count, limits.maxDataXferSize()) > 0) {
            throw new MessageException(Errno.E2BIG, what + ": count " + Long.toUnsignedString(count)
                    + " exceeds max_data_xfer_size " + limits.maxDataXferSize());
        }
    }

    /** Rule: {@code base + length} does not wrap around 2^64 (EINVAL). */
    static void noWrap(long base, long length, String what) throws MessageException {
        if (Long.compareUnsigned(base, -1L - length) > 0) {
            throw inval(what + ": range 0x" + Long.toHexString(base) + "+0x" + Long.toHexString(length)
                    + " wraps around");
        }
    }

    /** Rule: only the named flag bits may be set (EINVAL). */
    static void onlyBits(long flags, long allowed, String what) throws MessageException {
        if ((flags & ~allowed) != 0) {
            throw inval(what + ": unknown flag bits 0x" + Long.toHexString(flags & ~allowed));
        }
    }

    /** Rule: a field the spec says must be zero in this message is zero (EINVAL). */
    static void zero(long value, String field, String what) throws MessageException {
        if (value != 0) {
            throw inval(what + ": " + field + " must be zero");
        }
    }

    /** Rule: a caller's argsz covers at least the fixed reply structure (EINVAL). */
    static void argszAtLeast(long argsz, long min, String what) throws MessageException {
        if (argsz < min) {
            throw inval(what + ": argsz " + argsz + " is smaller than the fixed reply size " + min);
        }
    }

    // ---- in-place reads for the hot-path views (absolute, little-endian, the caller has checked the size) ----

    /** Rule: the payload is exactly the fixed structure (EINVAL), as {@link Payload#requireSize}. */
    static void size(long actual, long expected, String what) throws MessageException {
        if (actual != expected) {
            throw inval(what + ": payload is " + actual + " bytes, expected " + expected);
        }
    }

    /** Rule: the payload holds at least the fixed part (EINVAL), as {@link Payload#requireAtLeast}. */
    static void sizeAtLeast(long actual, long min, String what) throws MessageException {
        if (actual < min) {
            throw inval(what + ": payload is " + actual + " bytes, expected at least " + min);
        }
    }

    /** A u32 at absolute {@code index}, little-endian whatever the buffer's order, widened. */
    static long u32(java.nio.ByteBuffer b, int index) {
        return Integer.toUnsignedLong(le32(b, index));
    }

    /** A u64 at absolute {@code index}, little-endian whatever the buffer's order, as the raw 64 bits. */
    static long u64(java.nio.ByteBuffer b, int index) {
        return b.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? b.getLong(index) : Long.reverseBytes(b.getLong(index));
    }

    private static int le32(java.nio.ByteBuffer b, int index) {
        return b.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? b.getInt(index) : Integer.reverseBytes(b.getInt(index));
    }

    /** Argument checks for record constructors: every field fits its wire width. */
    static long u32(long v, String field) {
        if ((v & ~0xFFFF_FFFFL) != 0) {
            throw new IllegalArgumentException(field + " is a u32: " + v);
        }
        return v;
    }

    static int u16(int v, String field) {
        if ((v & ~0xFFFF) != 0) {
            throw new IllegalArgumentException(field + " is a u16: " + v);
        }
        return v;
    }
}
