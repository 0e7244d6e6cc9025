package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.client.VfioUserClient;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.Fds;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest machine reset (ICH9 reset control: QEMU resets every device) and a QEMU
 * restart (the client disconnects, a new QEMU re-attaches to the same running server).
 */
class ResetRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aMachineResetResetsTheDeviceAndItWorksAgain() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.enableMsix();
            rig.programMsix(1, 0x44);
            rig.programIms(2, 0x45, false);
            rig.qemu.writel(rig.bar0 + 0x80, 0x1234_5678L);
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x14), "BUDGET_USED: one vector, one IMS entry");

            // Without -no-reboot, writing 0x6 to 0xcf9 is a full machine reset; QEMU keeps running.
            rig.qemu.outb(0xcf9, 0x6);
            Await.until(WAIT, () -> rig.scrape().commands("DEVICE_RESET") == 2, () -> "QEMU to send DEVICE_RESET for "
                    + "the machine reset (2 in all), " + rig.scrape().commands("DEVICE_RESET") + " so far");
            assertEquals(0, rig.cfg.read32(VfuRig.SLOT, PciConfig.BAR0) & ~0xfL, "BARs unassigned again");
            assertEquals(0, rig.cfg.read16(VfuRig.SLOT, PciConfig.COMMAND) & 7, "decoding off");

            rig.assignBars();
            rig.assertId();
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x80), "SCRATCH back to power-on state");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x14), "every vector and IMS unit returned");
            assertEquals(1, rig.qemu.readl(rig.bar4 + 16 * 2 + 12), "IMS entry masked again");
            assertEquals(0, rig.scrape().sum("vfu_vector_budget_used"));
            assertEquals(1, rig.scrape().sum("vfu_sessions_opened_total"), "same session across the reset");

            rig.enableMsix();
            rig.programMsix(1, 0x46);
            rig.programIms(2, 0x47, false);
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 1);
            assertEquals(0x46, rig.awaitVector(mark), "MSI-X works after the reset");
            mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 2);
            assertEquals(0x47, rig.awaitVector(mark), "IMS works after the reset");
            assertEquals(0, rig.scrape().sum("vfu_errors_total"), rig.scrape().text());
        }
    }

    @Test
    void aRestartedQemuReattachesToTheRunningServerAndDeviceStateSurvivesTheDisconnect() throws Exception {
        ServerConfig small = ServerConfig.parse("test", """
                {"devices": [{"name": "small", "socket": "%s", "vectorBudget": 2}]}""".formatted(dir.resolve("small.sock")));
        try (VfuRig rig = VfuRig.server(small)) {
            int fdsBefore = Fds.openCount();
            rig.attach(a -> a);
            rig.qemu.writel(rig.bar0 + 0x80, 0x1234_5678L);
            rig.qemu.writel(rig.bar0 + 0xfc, 0x9abc_def0L);
            for (int e = 0; e < 3; e++) {
                rig.programIms(e, 0x50 + e, false);
            }
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x18), "the third unmask exceeded a budget of 2");
            assertEquals(1, rig.qemu.readl(rig.bar4 + 16 * 2 + 12), "entry 2 stayed masked");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x20), "ERROR_CODE BUDGET_EXHAUSTED");
            assertEquals(0x8000_0002L, rig.qemu.readl(rig.bar0 + 0x24), "ERROR_INFO: IMS entry 2");
            assertEquals(1, rig.scrape().sum("vfu_vector_budget_exhausted_total", java.util.Map.of("kind", "IMS")));

            // A second QEMU while the first is attached is refused and does not disturb the first.
            QtestException busy = assertThrows(QtestException.class,
                    () -> QtestSession.start(rig.args(), WAIT).close());
            assertTrue(busy.getMessage().contains("version reply: Device or resource busy"), busy.getMessage());
            rig.assertId();
            assertEquals(1, rig.scrape().sum("vfu_sessions_refused_total"));

            QtestSession first = rig.qemu;
            assertEquals(0, first.stop(WAIT), "QEMU exits cleanly on SIGTERM");
            awaitSessionsClosed(rig, 1);
            // The session's socket, its eventfds and QEMU's pipes to us are all closed again.
            Await.until(WAIT, () -> Fds.openCount() <= fdsBefore,
                    () -> "fds back at " + fdsBefore + " (before QEMU) or below, are " + Fds.openCount());

            // Between clients the device keeps its state: another client reads it without any reset.
            try (VfioUserClient c = Clients.negotiated(rig.socket)) {
                assertEquals(0x1234_5678L, Clients.read32(c, Clients.REGION_BAR0, 0x80), "SCRATCH[0] kept");
                assertEquals(0x9abc_def0L, Clients.read32(c, Clients.REGION_BAR0, 0xfc), "SCRATCH[31] kept");
                assertEquals(2, Clients.read32(c, Clients.REGION_BAR0, 0x14), "IMS units kept");
            }
            awaitSessionsClosed(rig, 2);

            // A new QEMU attaches to the same server; its attach resets the device (vfio semantics), but what
            // survives a reset by design (BUDGET_EXHAUSTED, "since power-on") is still there.
            rig.attach(a -> a);
            assertEquals(3, rig.scrape().sum("vfu_sessions_opened_total"));
            assertEquals(2, rig.scrape().commands("DEVICE_RESET"), "one reset per QEMU attach");
            rig.assertId();
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x18), "BUDGET_EXHAUSTED survives reset and re-attach");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x14), "units were returned by the reset");

            rig.enableMsix();
            rig.programMsix(0, 0x66);
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 0);
            assertEquals(0x66, rig.awaitVector(mark), "interrupts reach the new QEMU through its own eventfds");
            rig.programIms(1, 0x67, false);
            mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x44, 1);
            assertEquals(0x67, rig.awaitVector(mark), "posted writes go to the new client");
        }
    }

    private static void awaitSessionsClosed(VfuRig rig, int n) throws InterruptedException {
        Await.until(WAIT, () -> rig.scrape().sum("vfu_sessions_closed_total") == n,
                () -> "vfu_sessions_closed_total " + n + ", is " + rig.scrape().sum("vfu_sessions_closed_total"));
    }
}
