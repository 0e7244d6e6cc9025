package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.transport.nativeio.Fds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MSI-X under QEMU 11: enabling MSI-X and using vectors one by one appends per-vector eventfds (the server
 * offers no NORESIZE), never disabling the index; a doorbell then arrives at the local APIC with the vector
 * the guest programmed.
 */
class MsixTest {
    private static final Pattern SET_IRQS =
            Pattern.compile("vfio_user_set_irqs +index (\\d+) start (\\d+) count (\\d+) flags (0x[0-9a-f]+)");
    private static final int[] VECTORS = {0, 1, 2, 5, 2047};

    @TempDir
    Path dir;

    /** The SET_IRQS QEMU sent for index 2 (MSI-X) as "start/count/flags", in order. */
    private static List<String> msixSetIrqs(VfuRig rig) {
        return rig.qemu.stderr().lines().stream().map(SET_IRQS::matcher).filter(Matcher::find)
                .filter(m -> m.group(1).equals("2"))
                .map(m -> m.group(2) + "/" + m.group(3) + "/" + m.group(4)).toList();
    }

    @Test
    void usingVectorsAppendsThemWithoutDisablingTheIndex() {
        try (VfuRig rig = VfuRig.start(dir, a -> a.trace("vfio_user_set_irqs"))) {
            rig.enableMsix();
            for (int n : VECTORS) {
                rig.programMsix(n, 0x30 + (n & 0x3f));
            }
            rig.sync();

            // 0x24 = DATA_EVENTFD|ACTION_TRIGGER. The enable carries no fd (vector 0 placeholder); each vector
            // then comes alone with its eventfd. A disable would be count 0 with DATA_NONE (0x21).
            assertEquals(List.of("0/1/0x24", "0/1/0x24", "1/1/0x24", "2/1/0x24", "5/1/0x24", "2047/1/0x24"),
                    msixSetIrqs(rig));
            Scrape s = rig.scrape();
            assertEquals(1 + VECTORS.length,
                    s.sum("vfu_set_irqs_total", Map.of("index", "MSIX", "action", "TRIGGER")), s.text());
            assertEquals(0, s.sum("vfu_irq_index_disables_total", Map.of("index", "MSIX")),
                    "MSI-X was never disabled");
            assertEquals(VECTORS.length, s.sum("vfu_vector_budget_used"), "one budget unit per vector in use");
            assertEquals(VECTORS.length, rig.qemu.readl(rig.bar0 + 0x14), "BUDGET_USED register");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x1c) & 1, "STATUS: MSI-X enabled");
        }
    }

    @Test
    void aDoorbellDeliversTheProgrammedVectorToTheApic() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.enableMsix();
            for (int n : VECTORS) {
                rig.programMsix(n, 0x30 + (n & 0x3f));
            }
            for (int n : VECTORS) {
                int mark = rig.mark();
                rig.qemu.writel(rig.bar0 + 0x40, n);
                assertEquals(0x30 + (n & 0x3f), rig.awaitVector(mark), "doorbell " + n);
            }
            // A second ring of one vector delivers again; the device counts per vector.
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 5);
            assertEquals(0x35, rig.awaitVector(mark));
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x2000 + 4 * 5), "MSIX_DELIVERED[5]");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x2000 + 4 * 2047), "MSIX_DELIVERED[2047]");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x2000 + 4 * 3), "vector 3 never rang");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x20), "no ERROR_CODE");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x28), "nothing dropped");
            Scrape s = rig.scrape();
            Map<String, String> msix = Map.of("index", "MSIX");
            assertEquals(VECTORS.length + 1, s.sum("vfu_interrupts_signalled_total", msix));
            assertEquals(VECTORS.length + 1, s.sum("vfu_interrupts_delivered_total", msix));
            assertEquals(0, s.sum("vfu_interrupts_latched_total", msix));
            assertEquals(VECTORS.length, s.sum("vfu_msix_vectors_assigned"));
        }
    }

    @Test
    void aDoorbellWhileMsixIsDisabledIsDroppedAndCounted() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 3);
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x28), "MSIX_DROPPED");
            assertEquals(1, rig.scrape().sum("vfu_interrupts_dropped_total", Map.of("index", "MSIX")));
            rig.qemu.clockStep(1_000_000);
            assertFalse(rig.vectorsSince(mark).contains(0x33), "nothing delivered");
            // An out-of-range doorbell is an error the guest can read, not a crash.
            rig.enableMsix();
            rig.qemu.writel(rig.bar0 + 0x40, 4096);
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x20), "ERROR_CODE BAD_MSIX_VECTOR");
            assertEquals(4096, rig.qemu.readl(rig.bar0 + 0x24), "ERROR_INFO names the value");
            assertTrue((rig.qemu.readl(rig.bar0 + 0x1c) & 8) != 0, "STATUS error bit");
        }
    }

    @Test
    void aVectorMaskedInQemusTableIsHeldAndDeliveredOnceOnUnmask() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.enableMsix();
            rig.programMsix(4, 0x84);
            rig.qemu.writel(rig.bar2 + 16 * 4 + 12, 1); // mask entry 4 in QEMU's emulated table
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 4);
            rig.qemu.writel(rig.bar0 + 0x40, 4);
            rig.sync();
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            assertFalse(rig.vectorsSince(mark).contains(0x84), "masked: not delivered");
            // QEMU owns this mask: it keeps the eventfd, latches the vector in its own pending state and
            // re-delivers on unmask. (The guest's PBA read still reaches the server, which delivered the signal
            // and so shows no pending bit: QEMU 11.1.3 observed; the server cannot know QEMU's table mask.)
            rig.qemu.writel(rig.bar2 + 16 * 4 + 8, 0x85); // change the message while masked
            rig.qemu.writel(rig.bar2 + 16 * 4 + 12, 0);
            assertEquals(0x85, rig.awaitVector(mark), "delivered on unmask with the message as it reads now");
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            List<Integer> seen = rig.vectorsSince(mark);
            assertEquals(List.of(0x85), seen.stream().filter(v -> v == 0x84 || v == 0x85).toList(),
                    "exactly once: " + seen);
        }
    }

    @Test
    void theFunctionMaskLatchesEveryVectorAndClearingItDeliversEachOnce() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.enableMsix();
            rig.programMsix(6, 0x86);
            rig.programMsix(7, 0x87);
            int control = rig.cfg.read16(VfuRig.SLOT, 0x52);
            rig.cfg.write16(VfuRig.SLOT, 0x52, control | 0x4000);
            assertEquals(2, rig.qemu.readl(rig.bar0 + 0x1c) & 2, "the server saw Function Mask (STATUS bit 1)");
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 6);
            rig.qemu.writel(rig.bar0 + 0x40, 7);
            rig.qemu.writel(rig.bar0 + 0x40, 7);
            rig.sync();
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            List<Integer> masked = rig.vectorsSince(mark);
            assertFalse(masked.contains(0x86) || masked.contains(0x87), "function-masked: " + masked);
            assertEquals(0xc0, rig.qemu.readl(rig.bar2 + 0x8000), "the server's PBA (QEMU forwards the read)");

            rig.cfg.write16(VfuRig.SLOT, 0x52, control & ~0x4000);
            rig.awaitVector(mark);
            rig.qemu.clockStep(1_000_000);
            rig.sync();
            List<Integer> seen = rig.vectorsSince(mark).stream().filter(v -> v == 0x86 || v == 0x87).toList();
            assertEquals(List.of(0x86, 0x87), seen.stream().sorted().toList(), "each latched vector once: " + seen);
            assertEquals(0, rig.qemu.readl(rig.bar2 + 0x8000), "pending bits cleared by the deliveries");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x2000 + 4 * 7), "vector 7 rang twice, coalesced to one");
            Scrape s = rig.scrape();
            Map<String, String> msix = Map.of("index", "MSIX");
            assertEquals(3, s.sum("vfu_interrupts_signalled_total", msix));
            assertEquals(2, s.sum("vfu_interrupts_latched_total", msix));
            assertEquals(1, s.sum("vfu_interrupts_coalesced_total", msix));
            assertEquals(2, s.sum("vfu_interrupts_delivered_on_unmask_total", msix));
        }
    }

    @Test
    void all2048VectorsAppendOneByOneThenTheBudgetRefusesAnImsEntry() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            int fdsBefore = Fds.openCount();
            rig.enableMsix();
            for (int n = 0; n < 2048; n++) {
                rig.programMsix(n, 0x30 + (n & 0x7f));
            }
            Scrape s = rig.scrape();
            assertEquals(2048, s.sum("vfu_vector_budget_used"), "every vector holds a unit");
            assertEquals(1 + 2048, s.sum("vfu_set_irqs_total", Map.of("index", "MSIX", "action", "TRIGGER")));
            assertEquals(0, s.sum("vfu_irq_index_disables_total", Map.of("index", "MSIX")));
            // (A few unrelated JVM fds come and go, hence the slack.)
            assertTrue(Fds.openCount() >= fdsBefore + 2040, "the server holds one eventfd per vector: "
                    + fdsBefore + " -> " + Fds.openCount());

            // The budget is shared: an IMS unmask now is refused, and says so.
            rig.programIms(0, 0x99, false);
            assertEquals(1, rig.qemu.readl(rig.bar4 + 12), "IMS entry 0 left masked");
            assertEquals(1, rig.qemu.readl(rig.bar0 + 0x20), "ERROR_CODE BUDGET_EXHAUSTED");
            assertEquals(0x8000_0000L, rig.qemu.readl(rig.bar0 + 0x24), "ERROR_INFO: IMS entry 0");
            assertEquals(1, rig.scrape().sum("vfu_vector_budget_exhausted_total", Map.of("kind", "IMS")));
            assertEquals(2048, rig.scrape().sum("vfu_msix_vectors_assigned"));

            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 2047);
            assertEquals(0x30 + (2047 & 0x7f), rig.awaitVector(mark), "the last vector still works");

            // QEMU leaves: every eventfd is closed.
            rig.qemu.close();
            Await.until(Duration.ofSeconds(10), () -> Fds.openCount() <= fdsBefore,
                    () -> "fds back at " + fdsBefore + " or below, are " + Fds.openCount());
            assertEquals(0, rig.scrape().sum("vfu_vector_budget_used"), "units returned at disconnect");
        }
    }
}
