package io.vfu.device.pci;

/**
 * A memory Base Address Register as the guest sizes it (PCI Local Bus 3.0 section 6.2.5.1): a power-of-two size
 * of at least 16 bytes, 32- or 64-bit, prefetchable or not. A 64-bit BAR takes its slot and the next.
 *
 * @param size         bytes, a power of two, 16 or more (below 4 GiB for a 32-bit BAR)
 * @param is64         a 64-bit BAR (type 0b10), taking two slots
 * @param prefetchable the prefetchable bit (3)
 */
public record Bar(long size, boolean is64, boolean prefetchable) {

    public Bar {
        // Rule: sizing only works for a power of two; the low 4 bits are type bits.
        if (size < 16 || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("BAR size must be a power of two >= 16: " + size);
        }
        if (!is64 && size > (1L << 31)) {
            throw new IllegalArgumentException("a 32-bit BAR holds at most 2 GiB: " + size);
        }
    }

    /** A 64-bit, non-prefetchable memory BAR. */
    public static Bar memory64(long size) {
        return new Bar(size, true, false);
    }

    /** A 32-bit, non-prefetchable memory BAR. */
    public static Bar memory32(long size) {
        return new Bar(size, false, false);
    }

    /** The read-only type bits of the BAR's low dword. */
    int typeBits() {
        return (is64 ? 0x4 : 0) | (prefetchable ? 0x8 : 0);
    }
}
