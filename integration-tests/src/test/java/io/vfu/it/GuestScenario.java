package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the guest suite boots and checks, shared by the direct (chroot QEMU) and the container path.
 *
 * <p>The device: 64 MSI-X vectors, 64 IMS entries and a vector budget of 48, so that the guest can append 32
 * vectors, append 8 more during the churn, unmask 4 IMS entries and then fill the budget with 4 more appends
 * (44 vectors + 4 IMS entries = 48); the next append and the next IMS unmask are refused.
 */
final class GuestScenario {
    static final String DEVICE = "dev0";
    static final int BUDGET = 48;
    static final int IMS_ENTRIES = 4;
    static final long CHURN = 100_000;
    static final int CHURN_VECTORS = 8;
    /** Vectors that hold a budget unit when the budget is full: everything but the IMS entries. */
    static final int VECTORS = BUDGET - IMS_ENTRIES;

    private GuestScenario() {
    }

    /**
     * The server's --config file for a device on {@code socket}, for a QEMU running as another user whose
     * effective gid is {@code clientGid}: the socket is 0660 in that group and the group is served.
     */
    static Path writeConfig(Path dir, Path socket, long clientGid) throws IOException {
        return Files.writeString(dir.resolve("vfu.json"), """
                {"socketMode": "0660", "socketGroup": "%d", "allowedGids": [%d],
                 "devices": [{"name": "%s", "socket": "%s", "msixVectors": 64, "imsEntries": 64, "vectorBudget": %d}]}
                """.formatted(clientGid, clientGid, DEVICE, socket, BUDGET));
    }

    /** The server's --config file for a device on {@code socket}. */
    static Path writeConfig(Path dir, Path socket) throws IOException {
        return Files.writeString(dir.resolve("vfu.json"), """
                {"devices": [{"name": "%s", "socket": "%s", "msixVectors": 64, "imsEntries": 64, "vectorBudget": %d}]}
                """.formatted(DEVICE, socket, BUDGET));
    }

    /**
     * The guest kernel's command line words (after console=ttyS0 panic=-1 quiet). Rule: {@code no_timer_check},
     * because under TCG on a loaded host the kernel's boot-time check of the timer interrupt can miss its window,
     * and with interrupt remapping (intel-iommu) that is a panic (seen once in the guest bench at load 6).
     */
    static List<String> kernelArgs(boolean mmapDma) {
        return List.of("intel_iommu=on", "no_timer_check", "vfu.dma=" + (mmapDma ? "mmap" : "msg"), "vfu.vectors=32",
                "vfu.churn=" + CHURN, "vfu.churn_vectors=" + CHURN_VECTORS, "vfu.ims_rounds=200", "vfu.hold_ms=3000");
    }

    /**
     * QEMU arguments besides kernel, initrd and console: q35 with a vIOMMU (Debian kernels have no VFIO
     * no-IOMMU, so user-space VFIO in the guest needs intel-iommu; caching-mode lets QEMU see every map), the
     * device, and with {@code sharedMemory} a memfd RAM backend so that the server can mmap guest memory.
     */
    static List<String> qemuArgs(Path socket, boolean sharedMemory, int memoryMib) {
        List<String> a = new ArrayList<>(List.of("-device", "intel-iommu,caching-mode=on", "-device",
                Json.write(Map.of("driver", "vfio-user-pci", "socket",
                        Map.of("path", socket.toString(), "type", "unix")))));
        if (sharedMemory) {
            a.addAll(List.of("-object", "memory-backend-memfd,id=mem,size=" + memoryMib + "M,share=on",
                    "-machine", "memory-backend=mem"));
        }
        return a;
    }

    /**
     * Every field of the result line and the detail line, as the issue defines them, and the reset: FLR listed
     * in the device's sysfs reset_method, VFIO_DEVICE_RESET offered and done, SCRATCH and the IMS store back to
     * power-on (IMS units back in the budget), MSI-X still enabled, and every MSI-X vector still delivering to
     * its eventfd.
     */
    static void assertGuest(GuestResult r, boolean mmapDma, String console) {
        String why = r.line() + "\nDETAIL " + r.detail() + "\n" + console;
        assertAll(
                () -> assertEquals("", r.detail().path("error").asText(), why),
                () -> assertTrue(r.detail().path("config_ok").asBoolean(), "IDs, BARs, capability chain: " + why),
                () -> assertEquals(VECTORS, r.count("vectors_appended"), why),
                () -> assertTrue(r.count("fired") >= CHURN, "at least 10^5 MSI-X interrupts: " + why),
                () -> assertEquals(r.count("fired"), r.count("received"), "every MSI-X interrupt counted: " + why),
                () -> assertEquals(r.count("received"), r.detail().path("device_msix_delivered").asLong(),
                        "guest counts equal the device's MSIX_DELIVERED counters: " + why),
                () -> assertTrue(r.detail().path("churn_fired").asLong() >= CHURN, why),
                () -> assertEquals(CHURN_VECTORS, r.detail().path("churn_appended").asLong(), "appends during churn: "
                        + why),
                () -> assertTrue(r.count("ims_fired") > IMS_ENTRIES, why),
                () -> assertEquals(r.count("ims_fired"), r.count("ims_received"), why),
                () -> assertEquals(r.count("ims_received"), r.detail().path("device_ims_delivered").asLong(), why),
                () -> assertTrue(r.flag("ims_reread_ok"), why),
                () -> assertTrue(r.flag("budget_error_seen"), why),
                () -> assertEquals(BUDGET, r.detail().path("budget_total").asInt(), why),
                () -> assertTrue(r.flag(mmapDma ? "dma_mmap_ok" : "dma_msg_ok"), why),
                () -> assertTrue(r.result().path("reset_method").asText().contains("flr"),
                        "the guest kernel lists FLR as a reset method: " + why),
                () -> assertTrue(r.detail().path("reset_flag").asBoolean(),
                        "vfio-pci offers VFIO_DEVICE_RESET: " + why),
                () -> assertTrue(r.flag("reset_ok"), "the reset cleared SCRATCH and the IMS store, "
                        + "returned the IMS units to the budget, kept MSI-X enabled; the device answers: " + why),
                () -> assertTrue(r.flag("irq_after_reset"), "every vector delivers after the reset: " + why));
    }

    /**
     * The server's metrics while the guest still held the device (taken when the result line appeared): no
     * MSI-X index disable during the run, both refusals counted, and DMA in the expected mode.
     */
    static void assertMetrics(String scrape, boolean mmapDma) {
        assertAll(
                () -> assertEquals(0.0, sum(scrape, "vfu_irq_index_disables_total", "index=\"MSIX\""),
                        "MSI-X stayed enabled while vectors were appended:\n" + scrape),
                () -> assertEquals(2.0, sum(scrape, "vfu_vector_budget_exhausted_total", ""), scrape),
                () -> assertTrue(sum(scrape, "vfu_dma_bytes_total", "mode=\"" + (mmapDma ? "mmap" : "message")
                        + "\"") >= 2 * 0x6000, "DMA went " + (mmapDma ? "mmap" : "message") + ":\n" + scrape));
    }

    /** Sum of a metric's series whose labels contain {@code labels} (0 when absent). */
    static double sum(String scrape, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)\\} (\\S+)$").matcher(scrape);
        double s = 0;
        while (m.find()) {
            if (m.group(1).contains(labels) && m.group(1).contains("device=\"" + DEVICE + "\"")) {
                s += Double.parseDouble(m.group(2));
            }
        }
        return s;
    }
}
