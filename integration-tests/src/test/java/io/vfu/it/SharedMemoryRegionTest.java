package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.VfuServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A region with an mmap area backed by the device's shared memory, under QEMU 11: QEMU maps the area into the
 * guest from the memfd that came with the region's info, so the guest's accesses to it reach the device's
 * memory with no message, in both directions, while the rest of the BAR stays trapped.
 */
class SharedMemoryRegionTest {

    @TempDir
    Path dir;

    @Test
    void qemuMapsTheAreaAndTheGuestAndTheDeviceShareItsBytes() throws Exception {
        Path socket = dir.resolve("shared.sock");
        try (VfuServer server = VfuServer.builder().device("shared", socket, SharedPageDevice::new).start();
             QtestSession qemu = QtestSession.start(QemuArgs.qtest(Provisioned.load()).vfioUserDevice(socket))) {
            PciConfig cfg = new PciConfig(qemu);
            List<PciBars.Bar> bars = new PciBars(cfg).assign(VfuRig.SLOT);
            long bar0 = PciBars.byIndex(bars, 0).orElseThrow().address();
            assertEquals(0x00f0_1b5aL, cfg.read32(VfuRig.SLOT, 0));
            assertEquals(SharedPageDevice.ID, (int) qemu.readl(bar0), "page 0 is trapped: the device answers");

            qemu.writel(bar0 + 0x1000, 0x1122_3344L); // straight into the shared memory
            qemu.writel(bar0 + 0x4, 1);                // trapped: the device copies shared dword 0
            assertEquals(0x1122_3344L, qemu.readl(bar0 + 0x8), "the device read what the guest wrote directly");

            qemu.writel(bar0 + 0xC, 0xCAFE_F00DL);     // trapped: the device publishes at shared offset 4
            assertEquals(0xCAFE_F00DL, qemu.readl(bar0 + 0x1004), "the guest reads what the device published");
            assertEquals(0, qemu.readl(bar0 + 0x10), "no access to the mapped page was trapped");
        }
    }
}
