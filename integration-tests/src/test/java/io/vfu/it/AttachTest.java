package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU 11's vfio-user-pci attaches to the server and the guest sees the device {@code device-model/LAYOUT.md}
 * describes: identity, capability chain, IMS locator and BAR layout.
 */
class AttachTest {
    @TempDir
    Path dir;

    @Test
    void theAttachSequenceCompletesAndIsCountedByTheServer() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            // QEMU answered qtest, so it finished realizing the device; the server counted every step.
            Scrape s = rig.scrape();
            assertEquals(1, s.commands("VERSION"), "one VERSION");
            assertEquals(1, s.commands("DEVICE_GET_INFO"), "one GET_INFO");
            // BAR0-5 and CONFIG (spec: QEMU asks for regions 0-5 and 7).
            assertEquals(7, s.commands("DEVICE_GET_REGION_INFO"), "REGION_INFO for BAR0-5 and CONFIG");
            assertTrue(s.commands("DEVICE_GET_IRQ_INFO") >= 2, "IRQ_INFO for ERR and MSI-X");
            assertTrue(s.commands("DMA_MAP") >= 1, "guest RAM mapped");
            assertEquals(1, s.commands("DEVICE_RESET"), "QEMU resets the machine once after the attach");
            assertEquals(1, s.sum("vfu_sessions_opened_total"));
            assertEquals(0, s.sum("vfu_sessions_closed_total"));
            assertEquals(0, s.sum("vfu_errors_total"), "no command failed during the attach:\n" + s.text());
            assertTrue(rig.server.endpoints().getFirst().busy(), "the session is active");
            rig.assertId();
        }
    }

    @Test
    void configSpaceReadsAsDesigned() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            PciConfig c = rig.cfg;
            PciAddress f = VfuRig.SLOT;
            assertEquals(VfuRig.VENDOR, c.read16(f, PciConfig.VENDOR_ID));
            assertEquals(VfuRig.DEVICE, c.read16(f, PciConfig.DEVICE_ID));
            assertEquals(0x01, c.read8(f, 0x08), "revision");
            assertEquals(0x088000L, c.read32(f, 0x08) >>> 8, "class: system peripheral / other");
            assertEquals(0x00, c.read8(f, PciConfig.HEADER_TYPE), "type 0, single function");
            assertEquals(0x1b5a, c.read16(f, 0x2c), "subsystem vendor");
            assertEquals(0x0001, c.read16(f, 0x2e), "subsystem id");
            assertEquals(1, c.read8(f, 0x3d), "interrupt pin INTA");
            assertEquals(0, c.read32(f, 0x30), "no expansion ROM");
            assertTrue((c.read16(f, PciConfig.STATUS) & 0x10) != 0, "Capabilities List");

            List<int[]> chain = new ArrayList<>();
            for (int p = c.read8(f, PciConfig.CAPABILITIES_POINTER); p != 0; p = c.read8(f, p + 1)) {
                assertTrue(chain.size() < 48, "capability chain loops");
                chain.add(new int[] {p, c.read8(f, p)});
            }
            assertEquals(List.of("40:01", "50:11", "60:10", "a0:09"),
                    chain.stream().map(e -> String.format("%02x:%02x", e[0], e[1])).toList(),
                    "PM, MSI-X, PCI Express, vendor-specific IMS locator");

            assertEquals(3, c.read16(f, 0x42) & 7, "PM version 3");
            int msixControl = c.read16(f, 0x52);
            assertEquals(2047, msixControl & 0x7ff, "2048 MSI-X vectors");
            assertEquals(0, msixControl & 0xc000, "MSI-X disabled and unmasked after reset");
            assertEquals(2L, c.read32(f, 0x54), "MSI-X table at BAR2 + 0");
            assertEquals(0x8002L, c.read32(f, 0x58), "PBA at BAR2 + 0x8000");
            assertEquals(2, c.read16(f, 0x62) & 0xf, "PCI Express capability version 2");

            assertEquals(0x10, c.read8(f, 0xa2), "IMS locator length");
            assertEquals(1, c.read8(f, 0xa3), "layout type: IMS store");
            assertEquals(4L, c.read32(f, 0xa4), "IMS entries at BAR4 + 0");
            assertEquals(0x10004L, c.read32(f, 0xa8), "IMS pending bits at BAR4 + 0x10000");
            assertEquals(4096L, c.read32(f, 0xac), "4096 IMS entries");
        }
    }

    @Test
    void theBarsAreThreeNonPrefetchable64BitMemoryBarsOfTheDesignedSizes() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            Map<Integer, Long> sizes = new java.util.TreeMap<>();
            for (PciBars.Bar b : rig.bars) {
                assertEquals(PciBars.Kind.MEMORY64, b.kind(), b.toString());
                assertTrue(!b.prefetchable(), b.toString());
                sizes.put(b.index(), b.size());
            }
            assertEquals(Map.of(0, 32L << 10, 2, 64L << 10, 4, 128L << 10), sizes);

            // The registers answer at the assigned addresses.
            rig.assertId();
            assertEquals(0x0001_0000L, rig.qemu.readl(rig.bar0 + 0x04), "layout version 1.0");
            assertEquals(2048, rig.qemu.readl(rig.bar0 + 0x08), "MSIX_COUNT");
            assertEquals(4096, rig.qemu.readl(rig.bar0 + 0x0c), "IMS_COUNT");
            assertEquals(2048, rig.qemu.readl(rig.bar0 + 0x10), "BUDGET_TOTAL");
            rig.qemu.writel(rig.bar0 + 0x80, 0xcafe_f00dL);
            assertEquals(0xcafe_f00dL, rig.qemu.readl(rig.bar0 + 0x80), "SCRATCH[0] holds a value");
            // IMS entries reset masked (control bit 0) and not allocated.
            assertEquals(1, rig.qemu.readl(rig.bar4 + 12), "IMS entry 0 control");
            assertEquals(0, rig.qemu.readl(rig.bar4 + 0x10000), "no IMS pending bit");
            assertEquals(0, rig.qemu.readl(rig.bar2 + 0x8000), "no MSI-X pending bit (PBA read via the server)");
        }
    }
}
