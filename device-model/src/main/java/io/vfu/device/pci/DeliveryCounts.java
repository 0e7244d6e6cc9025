package io.vfu.device.pci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Deliveries per vector (or entry) since reset, optionally published as little-endian 32-bit words in memory the
 * guest maps ({@link #mirrorTo}), so the guest reads them without a trap. The counts are the device's; whatever
 * else writes the mirror is overwritten at the next delivery or reset.
 */
final class DeliveryCounts {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final int[] counts;
    private MemorySegment mirror;

    DeliveryCounts(int n) {
        this.counts = new int[n];
    }

    int get(int i) {
        return counts[i];
    }

    void increment(int i) {
        int c = ++counts[i];
        if (mirror != null) {
            mirror.set(LE_INT, 4L * i, c);
        }
    }

    void reset() {
        Arrays.fill(counts, 0);
        if (mirror != null) {
            mirror.asSlice(0, 4L * counts.length).fill((byte) 0);
        }
    }

    /** Publishes the counts into {@code memory} from now on (4 bytes each, at {@code 4 * i}). */
    void mirrorTo(MemorySegment memory) {
        if (memory.byteSize() < 4L * counts.length) {
            throw new IllegalArgumentException("a delivery mirror needs " + 4L * counts.length + " bytes");
        }
        this.mirror = memory;
        for (int i = 0; i < counts.length; i++) {
            memory.set(LE_INT, 4L * i, counts[i]);
        }
    }
}
