package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test helpers over the golden vectors. */
final class Vectors {

    private Vectors() {
    }

    static Golden named(String prefix) {
        return GoldenDataVectors.everything().stream().filter(g -> g.name().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no vector " + prefix));
    }

    /** Decodes a whole message whose header size matches its length. */
    static Message decode(byte[] wire, int fds, Limits limits) throws ProtocolException {
        ByteBuffer b = ByteBuffer.wrap(wire);
        Header h = Header.decode(b);
        return MessageDecoder.decode(h, b, fds, limits);
    }

    /** Adds {@code delta} to the little-endian unsigned field of {@code width} bytes at {@code off}. */
    static byte[] bump(byte[] wire, int off, int width, long delta) {
        byte[] c = wire.clone();
        ByteBuffer b = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
        switch (width) {
            case 2 -> b.putShort(off, (short) (b.getShort(off) + delta));
            case 4 -> b.putInt(off, (int) (b.getInt(off) + delta));
            case 8 -> b.putLong(off, b.getLong(off) + delta);
            default -> throw new IllegalArgumentException("width " + width);
        }
        return c;
    }

    static byte[] setU32(byte[] wire, int off, long v) {
        byte[] c = wire.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(off, (int) v);
        return c;
    }

    static byte[] setU64(byte[] wire, int off, long v) {
        byte[] c = wire.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(off, v);
        return c;
    }

    /** Asserts the message is rejected with exactly {@code errno}. */
    static void assertErrno(Errno errno, byte[] wire, int fds, Limits limits) {
        MessageException e = assertThrows(MessageException.class, () -> decode(wire, fds, limits));
        assertEquals(errno, e.errno(), e.getMessage());
    }
}
