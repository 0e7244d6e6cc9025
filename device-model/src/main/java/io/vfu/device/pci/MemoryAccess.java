package io.vfu.device.pci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Dword access to memory the device shares with the client (an mmap area's backing): a trapped access to those
 * bytes reads and writes the same memory the guest sees when it has them mapped. Little-endian, like PCI.
 */
public final class MemoryAccess implements DwordAccess {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment memory;
    private final long base;

    /** Serves offset {@code o} of the region from {@code memory} at {@code o - base}. */
    public MemoryAccess(MemorySegment memory, long base) {
        this.memory = memory;
        this.base = base;
    }

    @Override
    public int readDword(int offset) {
        return memory.get(LE_INT, offset - base);
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        long at = offset - base;
        int old = memory.get(LE_INT, at);
        memory.set(LE_INT, at, (old & ~mask) | (value & mask));
    }
}
