package io.vfu.device.memmove;

import io.vfu.device.RegionIndex;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Every PBA and IMS pending bit from 0 to the maximum: set, read through the BAR, cleared. */
class PendingBitsTest {

    @Test
    void everyMsixPbaBitSetsReadsAndClears() {
        Harness h = new Harness();
        int n = h.dev.config().msixTableSize();
        h.msixControl(true, false);
        long pba = DeviceConfig.pbaOffset(n);
        for (int v = 0; v < n; v++) {
            h.fireMsix(v); // entries reset masked: the signal latches
            for (int w = 0; w < n / 64; w++) {
                long word = (h.read32(RegionIndex.BAR2, pba + 8L * w) & 0xFFFFFFFFL)
                        | (long) h.read32(RegionIndex.BAR2, pba + 8L * w + 4) << 32;
                long expected = w == v / 64 ? 1L << (v & 63) : 0;
                assertEquals(expected, word, "PBA word " + w + " after firing vector " + v);
            }
            h.write32(RegionIndex.BAR2, pba + 8L * (v / 64), 0);
            assertTrue(h.pbaBit(v), "the PBA is read-only to software");
            h.msixEntryMask(v, false);
            assertFalse(h.pbaBit(v), "unmask delivers and clears vector " + v);
            assertEquals(v + 1, h.posted.size());
        }
    }

    @Test
    void everyImsPendingBitSetsReadsAndClears() {
        Harness h = new Harness(DeviceConfig.defaults().withCounts(2048, 4096, 8192));
        int n = h.dev.config().imsEntryCount();
        long base = DeviceConfig.imsPendingOffset(n);
        for (int e = 0; e < n; e++) {
            h.fireIms(e);
            int w = e / 64;
            for (int x = Math.max(0, w - 1); x <= Math.min(n / 64 - 1, w + 1); x++) {
                long word = (h.read32(RegionIndex.BAR4, base + 8L * x) & 0xFFFFFFFFL)
                        | (long) h.read32(RegionIndex.BAR4, base + 8L * x + 4) << 32;
                assertEquals(x == w ? 1L << (e & 63) : 0, word, "pending word " + x + " after entry " + e);
            }
            h.imsControl(e, 0);
            assertFalse(h.imsPendingBit(e), "unmask delivers and clears entry " + e);
            assertEquals(e + 1, h.posted.size());
        }
        for (int w = 0; w < n / 64; w++) {
            assertEquals(0, h.read32(RegionIndex.BAR4, base + 8L * w) | h.read32(RegionIndex.BAR4, base + 8L * w + 4));
        }
    }
}
