package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMS entries programmed through BAR4 MMIO fire as a DMA_WRITE of their data to their address, which QEMU 11
 * delivers as an MSI to the local APIC. Masked entries latch and deliver once, re-reading the entry, on unmask.
 */
class ImsTest {
    @TempDir
    Path dir;

    @Test
    void aFiredEntryArrivesAsItsProgrammedVector() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.programIms(7, 0x41, false);
            rig.programIms(4095, 0x42, false);
            assertEquals(2, rig.qemu.readl(rig.bar4 + 16 * 7 + 12), "unmasked and ALLOCATED");
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 7);
            assertEquals(0x41, rig.awaitVector(mark));
            mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 4095);
            assertEquals(0x42, rig.awaitVector(mark));

            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 7), "IMS_DELIVERED[7]");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 4095), "IMS_DELIVERED[4095]");
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x14), "BUDGET_USED: one unit per unmasked entry");
            Scrape s = rig.scrape();
            assertEquals(0, s.sum("vfu_errors_total"), s.text());
            assertEquals(2, s.sum("vfu_vector_budget_used"));
            assertEquals(2, s.sum("vfu_ims_entries_in_use"));
            assertEquals(2, s.sum("vfu_interrupts_delivered_total", Map.of("index", "IMS")));
        }
    }

    @Test
    void aMaskedEntryFiredThenReprogrammedDeliversOnceWithTheNewVectorOnUnmask() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            int mark = rig.mark();
            rig.programIms(3, 0x51, true);
            rig.qemu.writel(rig.bar0 + 0x44, 3);
            rig.qemu.writel(rig.bar0 + 0x44, 3); // signals coalesce while masked
            assertEquals(1L << 3, rig.qemu.readl(rig.bar4 + 0x10000), "pending bit 3 latched");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 3), "nothing delivered while masked");

            // Software changes the message only while masked, then unmasks.
            rig.qemu.writel(rig.bar4 + 16 * 3 + 8, 0x52);
            rig.qemu.writel(rig.bar4 + 16 * 3 + 12, 0);
            assertEquals(0x52, rig.awaitVector(mark));
            assertEquals(0, rig.qemu.readl(rig.bar4 + 0x10000), "pending bit cleared by the delivery");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 3), "IMS_DELIVERED[3]");
            Scrape s = rig.scrape();
            Map<String, String> ims = Map.of("index", "IMS");
            assertEquals(2, s.sum("vfu_interrupts_signalled_total", ims));
            assertEquals(1, s.sum("vfu_interrupts_latched_total", ims));
            assertEquals(1, s.sum("vfu_interrupts_coalesced_total", ims));
            assertEquals(1, s.sum("vfu_interrupts_delivered_on_unmask_total", ims));
            assertEquals(1, s.sum("vfu_ims_entries_in_use"));

            // Let any stray second delivery show up before counting.
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            List<Integer> seen = rig.vectorsSince(mark);
            assertEquals(1, Collections.frequency(seen, 0x52), "delivered exactly once: " + seen);
            assertFalse(seen.contains(0x51), "the stale vector never arrives: " + seen);
        }
    }

    @Test
    void withoutBusMasterTheDmaWriteIsNotDeliveredAsAnMsi() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.programIms(9, 0x61, false);
            int command = rig.cfg.read16(VfuRig.SLOT, PciConfig.COMMAND);
            rig.cfg.write16(VfuRig.SLOT, PciConfig.COMMAND, command & ~PciConfig.COMMAND_BUS_MASTER);
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 9);
            rig.sync();
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            assertFalse(rig.vectorsSince(mark).contains(0x61), "QEMU drops DMA from a device that is not bus master");
            // Switching Bus Master back on and firing again works: the entry is intact.
            rig.cfg.write16(VfuRig.SLOT, PciConfig.COMMAND, command);
            mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 9);
            assertEquals(0x61, rig.awaitVector(mark));
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 9),
                    "the device sent both writes; QEMU dropped the first");
        }
    }
}
