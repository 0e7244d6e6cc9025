package io.vfu.device.pci;

import java.nio.ByteBuffer;

/**
 * A register file seen as little-endian dwords. Any byte-granular access is split into dword reads and masked
 * dword writes, so registers implement one read and one write path. No allocation.
 */
public interface DwordAccess {

    /** Read the dword at {@code offset} (a multiple of 4, in range). */
    int readDword(int offset);

    /**
     * Write the bits of {@code value} selected by {@code mask} (whole bytes) to the dword at {@code offset}.
     */
    void writeDword(int offset, int value, int mask);

    /** Read {@code dst.remaining()} bytes from {@code offset}; the caller has checked the range. */
    static void read(DwordAccess r, int offset, ByteBuffer dst) {
        int end = offset + dst.remaining();
        int o = offset;
        while (o < end) {
            int base = o & ~3;
            int d = r.readDword(base);
            int to = Math.min(4, end - base);
            for (int i = o - base; i < to; i++) {
                dst.put((byte) (d >>> (i * 8)));
            }
            o = base + to;
        }
    }

    /** Write {@code src.remaining()} bytes at {@code offset}; the caller has checked the range. */
    static void write(DwordAccess r, int offset, ByteBuffer src) {
        int end = offset + src.remaining();
        int o = offset;
        while (o < end) {
            int base = o & ~3;
            int to = Math.min(4, end - base);
            int value = 0;
            int mask = 0;
            for (int i = o - base; i < to; i++) {
                value |= (src.get() & 0xFF) << (i * 8);
                mask |= 0xFF << (i * 8);
            }
            r.writeDword(base, value, mask);
            o = base + to;
        }
    }
}
