package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * INTx under QEMU 11: the BAR0 INTX register drives the line, the server signals the INTx eventfd, QEMU raises
 * the IOAPIC input (seen with qtest's {@code irq_intercept_in}), automasks, and unmasks on its next device
 * access (SET_IRQS UNMASK), so a second assertion raises the line again.
 */
class IntxTest {
    @TempDir
    Path dir;

    /** Waits until the IRQ lines stop changing for 200 ms (QEMU's EOI-on-access re-raises a held level). */
    private static List<String> settled(QtestSession q) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> last = q.asyncLines();
        long stableSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(20);
            List<String> now = q.asyncLines();
            if (!now.equals(last)) {
                last = now;
                stableSince = System.nanoTime();
            } else if (!now.isEmpty() && System.nanoTime() - stableSince > 200_000_000L) {
                break;
            }
        }
        return last;
    }

    @Test
    void theIntxRegisterRaisesAndLowersTheGuestsInterruptLine() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.qemu.command("irq_intercept_in ioapic");
            rig.qemu.writel(rig.bar0 + 0x2c, 1);
            List<String> lines = settled(rig.qemu);
            assertTrue(lines.getFirst().matches("IRQ raise \\d+"), lines.toString());
            String gsi = lines.getFirst().substring("IRQ raise ".length());
            assertEquals("IRQ raise " + gsi, lines.getLast(), "the line is high while INTX is 1: " + lines);
            assertEquals(0x08, rig.cfg.read16(VfuRig.SLOT, PciConfig.STATUS) & 0x08, "Status.Interrupt Status");
            assertEquals(4, rig.qemu.readl(rig.bar0 + 0x1c) & 4, "STATUS: INTx asserted");

            rig.qemu.writel(rig.bar0 + 0x2c, 0);
            rig.sync();
            lines = settled(rig.qemu);
            assertEquals("IRQ lower " + gsi, lines.getLast(), "low once INTX is 0: " + lines);
            assertEquals(0, rig.cfg.read16(VfuRig.SLOT, PciConfig.STATUS) & 0x08);
            int before = lines.size();

            rig.qemu.writel(rig.bar0 + 0x2c, 1);
            lines = settled(rig.qemu);
            assertTrue(lines.size() > before, "raised again after QEMU's unmask: " + lines);
            assertEquals("IRQ raise " + gsi, lines.get(before), lines.toString());
            assertTrue(rig.scrape().sum("vfu_set_irqs_total", java.util.Map.of("index", "INTX", "action", "UNMASK")) >= 1,
                    rig.scrape().text());
        }
    }
}
