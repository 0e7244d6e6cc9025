package io.vfu.devices.virtioblk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The common configuration as a driver sees it (virtio 1.2, 4.1.4.3): feature negotiation refuses what was not
 * offered, vectors the table does not have read NO_VECTOR, and a queue's set-up is fixed once enabled.
 */
class CommonConfigTest {

    static final long OFFERED = 1L << 32 | 1L << 28 | 1L << 9;
    final List<String> events = new ArrayList<>();
    final Virtqueue[] queues = {new Virtqueue(0, 64), new Virtqueue(1, 64)};
    final CommonConfig cfg = new CommonConfig(OFFERED, queues, 3, new CommonConfig.Listener() {
        @Override
        public void resetRequested() {
            events.add("reset");
            cfg.reset();
        }

        @Override
        public void driverOk() {
            events.add("driver-ok");
        }

        @Override
        public void driverError(String why) {
            events.add("error: " + why);
        }
    });

    private void write(int offset, int width, long value) {
        int shift = (offset & 3) * 8;
        int mask = (int) ((width == 4 ? 0xFFFF_FFFFL : (1L << (8 * width)) - 1) << shift);
        cfg.writeDword(offset & ~3, (int) (value << shift), mask);
    }

    private long read(int offset, int width) {
        long v = (cfg.readDword(offset & ~3) & 0xFFFF_FFFFL) >>> ((offset & 3) * 8);
        return width == 4 ? v : v & ((1L << (8 * width)) - 1);
    }

    private int negotiate(long features) {
        write(0x14, 1, 3);
        write(0x08, 4, 0);
        write(0x0C, 4, features & 0xFFFF_FFFFL);
        write(0x08, 4, 1);
        write(0x0C, 4, features >>> 32);
        write(0x14, 1, 0xB);
        return (int) read(0x14, 1);
    }

    @Test
    void offeredFeaturesReadBackPerSelectWord() {
        write(0x00, 4, 0);
        assertEquals(OFFERED & 0xFFFF_FFFFL, read(0x04, 4));
        write(0x00, 4, 1);
        assertEquals(OFFERED >>> 32, read(0x04, 4));
        write(0x00, 4, 7);
        assertEquals(0, read(0x04, 4), "feature words past the second read 0");
        assertEquals(2, read(0x12, 2), "num_queues");
    }

    @Test
    void featuresOkStaysClearForUnofferedFeaturesOrWithoutVersion1() {
        assertEquals(3, negotiate(OFFERED | 1L << 34), "RING_PACKED was not offered");
        write(0x14, 1, 0);
        assertEquals(3, negotiate(1L << 28), "VERSION_1 is required");
        write(0x14, 1, 0);
        assertEquals(0xB, negotiate(OFFERED), "the offered set is accepted");
        assertEquals(OFFERED, cfg.negotiated());
        write(0x08, 4, 0);
        write(0x0C, 4, 0);
        assertEquals(OFFERED, cfg.negotiated(), "features are fixed once FEATURES_OK is set");
    }

    @Test
    void vectorsOutsideTheTableReadNoVector() {
        write(0x10, 2, 2);
        assertEquals(2, read(0x10, 2));
        write(0x10, 2, 3);
        assertEquals(0xFFFF, read(0x10, 2), "the table has 3 vectors");
        write(0x16, 2, 1);
        write(0x1A, 2, 9);
        assertEquals(0xFFFF, read(0x1A, 2));
    }

    @Test
    void aQueuePastTheLastReadsSizeZeroAndIgnoresWrites() {
        write(0x16, 2, 5);
        assertEquals(0, read(0x18, 2));
        write(0x1C, 2, 1);
        assertEquals(0, read(0x1C, 2));
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void anEnabledQueuesSetUpIsFixedAndBadSizesAreDriverErrors() {
        write(0x16, 2, 0);
        write(0x18, 2, 48);
        write(0x1C, 2, 1);
        assertEquals(List.of("error: queue 0 enabled with size 48"), events);
        assertFalse(queues[0].enabled);
        write(0x18, 2, 32);
        write(0x20, 4, 0x1000);
        write(0x28, 4, 0x2000);
        write(0x30, 4, 0x3000);
        write(0x1C, 2, 1);
        assertTrue(queues[0].enabled);
        write(0x20, 4, 0x9000);
        write(0x18, 2, 16);
        assertEquals(0x1000, read(0x20, 4), "the descriptor table address is fixed while enabled");
        assertEquals(32, read(0x18, 2), "and so is the size");
    }

    @Test
    void writingZeroToStatusAsksForAReset() {
        negotiate(OFFERED);
        write(0x14, 1, 0xF);
        assertEquals(List.of("driver-ok"), events);
        write(0x14, 1, 0);
        assertEquals(List.of("driver-ok", "reset"), events);
        assertEquals(0, read(0x14, 1));
    }
}
