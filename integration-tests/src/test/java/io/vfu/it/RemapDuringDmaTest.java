package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU unmaps and remaps guest memory (here: the guest flips the q35 PAM registers, which changes what backs
 * 0xc0000-0xfffff) while the DMA engine is copying out of exactly that memory through its mmap. Each copy
 * either succeeds or reports a fault; the JVM never touches an unmapped page and the ring always finishes.
 */
class RemapDuringDmaTest {
    private static final PciAddress HOST = new PciAddress(0, 0, 0);

    @TempDir
    Path dir;

    @Test
    void pamFlipsDuringMmapDmaNeverCrashAndNeverStall() {
        try (VfuRig rig = VfuRig.start(dir, a -> a.sharedMemory().memoryMib(512))) {
            QtestSession q = rig.qemu;
            int count = 256;
            long ring = 0x0010_0000L;
            long records = 0x0011_0000L;
            for (int i = 0; i < count; i++) {
                q.writeBytes(ring + 32L * i, DmaEngineTest.descriptor(0xc0000L + (i % 4) * 0x10000L,
                        0x0040_0000L + (long) i * 0x10000, 0x10000, 0, records + 8L * i));
            }
            long unmapsBefore = rig.scrape().commands("DMA_UNMAP");
            q.writel(rig.bar0 + 0x100, ring);
            q.writel(rig.bar0 + 0x108, 512);
            q.writel(rig.bar0 + 0x10c, 1);
            q.writel(rig.bar0 + 0x114, count);
            int flips = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (q.readl(rig.bar0 + 0x118) < count && System.nanoTime() < deadline) {
                // PAM1..PAM6 (0x91-0x96): 0x33 = RAM read/write, 0x00 = PCI (not RAM) for 0xc0000-0xeffff.
                int v = (flips++ & 1) == 0 ? 0x00 : 0x33;
                for (int reg = 0x91; reg <= 0x96; reg++) {
                    rig.cfg.write8(HOST, reg, v);
                }
            }
            assertEquals(count, q.readl(rig.bar0 + 0x118), "every descriptor completed");
            int ok = 0;
            int faults = 0;
            for (int i = 0; i < count; i++) {
                long status = q.readl(records + 8L * i);
                assertTrue(status == 1 || status == 0x20, "descriptor " + i + " status 0x" + Long.toHexString(status));
                if (status == 1) {
                    ok++;
                } else {
                    faults++;
                }
            }
            long unmaps = rig.scrape().commands("DMA_UNMAP") - unmapsBefore;
            assertTrue(unmaps > 0, "QEMU unmapped guest memory during the run (" + flips + " flips, " + ok
                    + " copies, " + faults + " faults)");
            assertEquals(faults, q.readl(rig.bar0 + 0x11c), "DMA_ERRORS");
            rig.assertId();
        }
    }
}
