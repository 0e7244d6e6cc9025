package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.device.DeviceContext;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.Bar;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.PciDevice;
import io.vfu.device.pci.PciInterrupts;
import io.vfu.device.pci.PciRegs;
import io.vfu.device.pci.RegionMap;
import io.vfu.server.VfuServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device with an MSI capability (no MSI-X) built on the toolkit, under QEMU 11: the guest programs MSI in config
 * space, QEMU sets the vector up through the vfio MSI index, and the device's signal reaches the APIC.
 */
class MsiDeviceTest {

    /** BAR0: 0x0 ID, 0x4 doorbell (fires MSI vector 0). The MSI capability is the only one, at 0x40. */
    static final class MsiDevice extends PciDevice {
        private final PciInterrupts irqs;
        private final ConfigSpace config;
        private final RegionMap regions;

        MsiDevice(DeviceContext context) {
            irqs = new PciInterrupts(1, 0x800, 1, context.postedWrites(), (s, i) -> { });
            config = ConfigSpace.builder().ids(0x1b5a, 0x00f2).subsystem(0x1b5a, 0x00f2)
                    .revisionAndClass(1, 0x088000).bar(0, Bar.memory32(0x1000)).capability(irqs.msiCapability())
                    .build(irqs.intx());
            DwordAccess bar0 = new DwordAccess() {
                @Override
                public int readDword(int offset) {
                    return offset == 0 ? 0x4953_4D31 : 0; // "1MSI"
                }

                @Override
                public void writeDword(int offset, int value, int mask) {
                    if (offset == 4) {
                        irqs.msi().signal(0);
                    }
                }
            };
            regions = new RegionMap(RegionIndex.COUNT).add(RegionIndex.CONFIG, PciRegs.SIZE, config)
                    .add(0, 0x1000, bar0);
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

    @TempDir
    Path dir;

    @Test
    void theGuestsMsiProgrammingReachesTheDeviceAndItsSignalTheApic() throws Exception {
        Path socket = dir.resolve("msi.sock");
        try (VfuRig rig = VfuRig.around(VfuServer.builder().device("msi", socket, MsiDevice::new).start(), socket)) {
            rig.qemu = QtestSession.start(rig.args());
            rig.cfg = new PciConfig(rig.qemu);
            long bar0 = PciBars.byIndex(new PciBars(rig.cfg).assign(VfuRig.SLOT), 0).orElseThrow().address();
            assertEquals(0x00f2_1b5aL, rig.cfg.read32(VfuRig.SLOT, 0));
            assertEquals(0x05, rig.cfg.read16(VfuRig.SLOT, 0x40) & 0xFF, "MSI capability at 0x40");
            assertEquals(0x4953_4D31L, rig.qemu.readl(bar0));
            rig.cfg.write16(VfuRig.SLOT, 0x04, 0x6); // Memory Space + Bus Master: MSI needs it
            rig.cfg.write32(VfuRig.SLOT, 0x44, 0xFEE0_0000L); // address: APIC 0
            rig.cfg.write32(VfuRig.SLOT, 0x48, 0);
            rig.cfg.write16(VfuRig.SLOT, 0x4C, 0x52);          // data: vector 0x52
            rig.cfg.write16(VfuRig.SLOT, 0x42, rig.cfg.read16(VfuRig.SLOT, 0x42) | 1); // MSI Enable
            int mark = rig.mark();
            rig.qemu.writel(bar0 + 4, 0);
            assertEquals(0x52, rig.awaitVector(mark), "the device's MSI reached the APIC");
        }
    }
}
