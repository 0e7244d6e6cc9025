package io.vfu.device.memmove;

import io.vfu.device.pci.DwordAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Trapped access to the published registers: reads the shared bytes; writes are ignored (they are read-only). */
final class MemorySegmentAccess implements DwordAccess {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment region;

    MemorySegmentAccess(MemorySegment region) {
        this.region = region;
    }

    @Override
    public int readDword(int offset) {
        return region.get(LE_INT, offset);
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        // Rule: the published registers are the device's; a write changes nothing.
    }
}
