package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.config.ServerConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default device with {@code "publishRegisters": true} publishes the registers a guest polls in BAR2 memory
 * QEMU 11 maps into the guest (device-model/LAYOUT.md "Published registers"): the guest reads the status page and
 * the delivery counters with no message to the server, and reads what a trapped read of BAR0 returns.
 */
class PublishedRegistersTest {

    /** BAR0 SHARED_STATUS: where the published area starts in BAR2. */
    static final int SHARED_STATUS = 0x030;
    static final int STATUS = 0x01C;
    static final int BUDGET_USED = 0x014;
    static final int MSIX_DELIVERED = 0x2000;

    @TempDir
    Path dir;

    @Test
    void theGuestReadsPublishedRegistersWithoutAMessage() {
        ServerConfig config = ServerConfig.parse("test", """
                {"devices": [{"name": "dev0", "socket": "%s", "publishRegisters": true}]}"""
                .formatted(dir.resolve("vfu.sock")));
        try (VfuRig rig = VfuRig.server(config)) {
            rig.attach(a -> a);
            long base = rig.qemu.readl(rig.bar0 + SHARED_STATUS);
            assertEquals(0x9000, base, "the published area follows the PBA page");
            int control = rig.cfg.read16(VfuRig.SLOT, 0x52);
            rig.cfg.write16(VfuRig.SLOT, 0x52, (control | 0x8000) & ~0x4000); // MSI-X Enable
            rig.programMsix(0, 0x41);
            for (int i = 0; i < 3; i++) {
                int mark = rig.mark();
                rig.qemu.writel(rig.bar0 + 0x40, 0); // DOORBELL_MSIX 0
                assertEquals(0x41, rig.awaitVector(mark));
            }
            long trappedStatus = rig.qemu.readl(rig.bar0 + STATUS);
            long trappedCount = rig.qemu.readl(rig.bar0 + MSIX_DELIVERED);
            long reads = rig.scrape().commands("REGION_READ");

            long status = rig.qemu.readl(rig.bar2 + base + STATUS);
            long count = rig.qemu.readl(rig.bar2 + base + 0x1000);
            long budget = rig.qemu.readl(rig.bar2 + base + BUDGET_USED);
            assertEquals(reads, rig.scrape().commands("REGION_READ"), "the published reads sent no message");
            assertEquals(trappedStatus, status, "STATUS as a trapped read returns it");
            assertEquals(1, status & 1, "MSI-X enabled");
            assertEquals(3, count, "MSIX_DELIVERED[0]");
            assertEquals(trappedCount, count);
            assertEquals(rig.qemu.readl(rig.bar0 + BUDGET_USED), budget);
        }
    }
}
