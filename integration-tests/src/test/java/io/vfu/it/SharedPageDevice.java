package io.vfu.it;

import io.vfu.device.DeviceContext;
import io.vfu.device.RegionIndex;
import io.vfu.device.RegionInfo;
import io.vfu.device.pci.Bar;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.MemoryAccess;
import io.vfu.device.pci.PciDevice;
import io.vfu.device.pci.PciInterrupts;
import io.vfu.device.pci.PciRegs;
import io.vfu.device.pci.RegionMap;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A test device on the toolkit whose BAR0 has a trapped page (registers) and a page the client maps into the
 * guest (shared memory): {@code 0x0} ID; a write to {@code 0x4} copies the first shared dword (what the guest
 * wrote there directly) into {@code 0x8}; a write to {@code 0xC} publishes its value at shared offset 4, where
 * the guest reads it directly. {@code 0x10} counts trapped accesses that reached page 1 (none should).
 */
final class SharedPageDevice extends PciDevice {

    static final int ID = 0x5348_5244; // "DRHS"
    private static final ValueLayout.OfInt LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final PciInterrupts irqs;
    private final ConfigSpace config;
    private final RegionMap regions;
    private final MemorySegment shared;
    private int copied;
    private int trappedOnSharedPage;

    SharedPageDevice(DeviceContext context) {
        irqs = new PciInterrupts(1, 0x800, context.postedWrites(), (s, i) -> { });
        shared = context.sharedMemory(0, 0x2000); // region offsets 0..0x2000; page 1 is mapped
        config = ConfigSpace.builder().ids(0x1b5a, 0x00f0).subsystem(0x1b5a, 0x00f0).revisionAndClass(1, 0x088000)
                .bar(0, Bar.memory32(0x2000)).build(irqs.intx());
        MemoryAccess page1 = new MemoryAccess(shared, 0);
        DwordAccess bar0 = new DwordAccess() {
            @Override
            public int readDword(int offset) {
                if (offset >= 0x1000) {
                    trappedOnSharedPage++;
                    return page1.readDword(offset);
                }
                return switch (offset) {
                    case 0x0 -> ID;
                    case 0x8 -> copied;
                    case 0x10 -> trappedOnSharedPage;
                    default -> 0;
                };
            }

            @Override
            public void writeDword(int offset, int value, int mask) {
                if (offset >= 0x1000) {
                    trappedOnSharedPage++;
                    page1.writeDword(offset, value, mask);
                } else if (offset == 0x4) {
                    copied = shared.get(LE, 0x1000);
                } else if (offset == 0xC) {
                    shared.set(LE, 0x1004, value);
                }
            }
        };
        regions = new RegionMap(RegionIndex.COUNT).add(RegionIndex.CONFIG, PciRegs.SIZE, config).add(0, 0x2000, bar0)
                .mmap(0, new RegionInfo.Area(0x1000, 0x1000));
    }

    @Override
    protected RegionMap regions() {
        return regions;
    }

    @Override
    protected PciInterrupts irqs() {
        return irqs;
    }

    @Override
    public void reset() {
        irqs.reset();
        config.reset();
    }
}
