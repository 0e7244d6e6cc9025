package io.vfu.device.memmove;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.device.DeviceContext;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.MessageSink;
import io.vfu.device.RegionIndex;
import io.vfu.device.RegionInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The registers a guest polls, published in BAR2 memory the guest maps: what a guest reads there equals what a
 * trapped read of BAR0 returns, after deliveries, SET_IRQS, config writes and a reset.
 */
class SharedStatusTest {

    static final ValueLayout.OfInt LE = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    final Arena arena = Arena.ofConfined();
    MemorySegment bar2;

    final MemmoveImsDevice dev = new MemmoveImsDevice(DeviceConfig.defaults(), new DeviceContext() {
        @Override
        public String name() {
            return "t";
        }

        @Override
        public MessageSink postedWrites() {
            return (a, d) -> { };
        }

        @Override
        public void requestWork() {
        }

        @Override
        public MemorySegment sharedMemory(int region, long size) {
            bar2 = arena.allocate(size, 4096);
            return bar2;
        }
    }, true);

    private int bar0(int offset) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        dev.read(RegionIndex.BAR0, offset, b);
        return b.getInt(0);
    }

    private void write(int region, long offset, int value) {
        dev.write(region, offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value));
    }

    /** What the guest reads at {@code offset} of the published area. */
    private int mapped(long offset) {
        return bar2.get(LE, 0x9000 + offset);
    }

    @Test
    void theAreaIsOfferedAfterThePbaAndLocatedByABar0Register() {
        RegionInfo info = dev.regionInfo(RegionIndex.BAR2);
        assertEquals(List.of(new RegionInfo.Area(0x9000, 0x7000)), info.mmapAreas(),
                "status page, 2048 MSI-X counters, 4096 IMS counters");
        assertEquals(0x9000, bar0(DeviceRegisters.SHARED_STATUS));
        assertEquals(0, mapped(DeviceRegisters.STATUS), "power-on status");
    }

    @Test
    void countersAndStatusFollowWhatTheDeviceDoes() {
        Harness.Target v3 = new Harness.Target("v3");
        write(RegionIndex.CONFIG, ConfigLayout.MSIX, (int) (0x8000L << 16)); // MSI-X Enable
        dev.interrupts().set(2, IrqAction.TRIGGER, 3, 1, new IrqData.Targets(List.of(v3)));
        assertEquals(bar0(DeviceRegisters.STATUS), mapped(DeviceRegisters.STATUS));
        assertEquals(1, mapped(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_MSIX_ENABLED);
        assertEquals(1, mapped(DeviceRegisters.BUDGET_USED), "the append took a budget unit");
        for (int i = 0; i < 5; i++) {
            write(RegionIndex.BAR0, DeviceRegisters.DOORBELL_MSIX, 3);
        }
        assertEquals(5, v3.triggers);
        assertEquals(5, mapped(0x1000 + 4 * 3), "MSIX_DELIVERED[3] in the mapped counters");
        assertEquals(bar0(DeviceRegisters.MSIX_COUNTERS + 4 * 3), mapped(0x1000 + 4 * 3));
        write(RegionIndex.BAR0, DeviceRegisters.DOORBELL_MSIX, 5000); // out of range: an error
        assertEquals(bar0(DeviceRegisters.ERROR_CODE), mapped(DeviceRegisters.ERROR_CODE));
        assertEquals(2, mapped(DeviceRegisters.ERROR_CODE), "BAD_MSIX_VECTOR");

        bar2.set(LE, 0x9000 + 0x1000 + 12, 77); // a guest scribbling on the area changes nothing of the device's
        dev.reset();
        assertEquals(0, mapped(0x1000 + 4 * 3), "reset clears the counters");
        assertEquals(0, mapped(DeviceRegisters.ERROR_CODE));
        assertEquals(0, mapped(DeviceRegisters.BUDGET_USED), "the reset dropped the target");
        assertEquals(0, bar0(DeviceRegisters.MSIX_COUNTERS + 4 * 3));
    }
}
