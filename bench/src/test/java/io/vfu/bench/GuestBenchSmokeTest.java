package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/vfu-bench --guest --smoke} and {@code --guest --soak --smoke} end to end: a real server process, the
 * provisioned QEMU 11 and Debian guest with our device, edu and the floor (ivshmem-doorbell and its host echo
 * process). Asserts that every figure a reader relies on is there for every device and positive, and that the soak
 * lost nothing; never which device is faster (TCG on a shared machine).
 */
class GuestBenchSmokeTest {
    static final List<String> FIGURES = List.of("read_p50_us", "read_p99_us", "write_p50_us", "write_p99_us",
            "irq_p50_us", "irq_p99_us", "dma_copies_per_s", "dma_p50_us");
    /** The floor has no DMA engine. */
    static final List<String> FLOOR_FIGURES = List.of("read_p50_us", "read_p99_us", "write_p50_us", "write_p99_us",
            "irq_p50_us", "irq_p99_us");

    @Test
    void guestSmokeReportsEveryFigureForEveryDevice(@TempDir Path dir) throws Exception {
        BenchOptions o = BenchOptions.parse("--guest", "--smoke", "--json", "--work", dir.toString());
        JsonNode json = new ObjectMapper().readTree(new GuestBench(o, dir).perf().toJson());
        JsonNode guest = json.get("guest");
        assertTrue(guest != null && guest.isObject(), "no guest section: " + json);
        for (String column : List.of("vfu", "vfu_pub", "edu", "vfu/edu")) {
            for (String f : FIGURES) {
                JsonNode v = guest.path(column).get(f);
                assertTrue(v != null && v.isNumber() && v.asDouble() > 0, column + "." + f + ": " + v + " in " + json);
            }
        }
        for (String column : List.of("floor", "floor/edu")) {
            for (String f : FLOOR_FIGURES) {
                JsonNode v = guest.path(column).get(f);
                assertTrue(v != null && v.isNumber() && v.asDouble() > 0, column + "." + f + ": " + v + " in " + json);
            }
            assertTrue(!guest.get(column).has("dma_copies_per_s"), "a made-up DMA figure: " + guest.get(column));
        }
        for (String f : List.of("irq_p50_us", "irq_p99_us")) {
            JsonNode v = guest.path("vfu/floor").get(f);
            assertTrue(v != null && v.isNumber() && v.asDouble() > 0, "vfu/floor." + f + ": " + v + " in " + json);
        }
        // The echo answered every doorbell the guest rang: 2 runs of 50 timed ones and the untimed first one.
        assertEquals(2 * 50 + 1, json.get("floor_echoes").asLong(), json.toString());
        for (String device : List.of("vfu", "vfu_pub", "edu", "floor")) {
            JsonNode d = guest.get(device);
            // A p99 is never below its p50.
            for (String f : List.of("read", "write", "irq")) {
                assertTrue(d.get(f + "_p99_us").asDouble() >= d.get(f + "_p50_us").asDouble(), device + " " + f);
            }
        }
        // In the second boot our device publishes its registers in mapped memory: the guest times a read there. By
        // default (the first boot) it publishes none, and edu has nothing of the kind: no such figure, rather than
        // a made-up one.
        JsonNode published = guest.get("vfu_pub");
        assertTrue(published.path("shm_read_p50_us").asDouble() > 0, "mapped read of ours: " + published);
        assertTrue(published.path("shm_read_p99_us").asDouble() >= published.path("shm_read_p50_us").asDouble(),
                published.toString());
        assertTrue(guest.path("vfu/edu").path("shm_read_p50_us").asDouble() > 0, guest.toString());
        assertTrue(!guest.get("vfu").has("shm_read_p50_us"), guest.get("vfu").toString());
        assertTrue(!guest.get("edu").has("shm_read_p50_us"), guest.get("edu").toString());
        assertEquals(2, json.get("runs_per_boot").asInt());
        assertTrue(json.get("guest_clock_read_ns").asDouble() > 0);
    }

    @Test
    void soakSmokeLosesNoInterrupt(@TempDir Path dir) throws Exception {
        BenchOptions o = BenchOptions.parse("--guest", "--soak", "--smoke", "--work", dir.toString());
        GuestBench.Soak soak = new GuestBench(o, dir).soak();
        JsonNode r = new ObjectMapper().readTree(soak.results().toJson());
        String why = soak.summary() + "\n" + r;
        assertTrue(soak.report().passed(), why);
        assertTrue(r.get("fired").asLong() >= 20_000, why);
        assertEquals(r.get("fired").asLong(), r.get("received").asLong(), why);
        assertEquals(r.get("msix_fired").asLong(), r.get("device_msix_delivered").asLong(), why);
        assertEquals(r.get("ims_fired").asLong(), r.get("device_ims_delivered").asLong(), why);
        // Every round latched one IMS interrupt behind a mask and re-programmed the entry: each arrived at unmask,
        // as the guest counted it and as the server's metrics counted it.
        assertEquals(r.get("rounds").asLong(), r.get("delivered_on_unmask").asLong(), why);
        assertEquals(r.get("delivered_on_unmask").asDouble(), r.get("device_delivered_on_unmask").asDouble(), why);
        assertEquals(48, r.get("appended").asLong(), "vectors appended during the soak: " + why);
        assertTrue(soak.summary().startsWith("soak: fired=" + r.get("fired").asLong() + " received="), why);
    }

    @Test
    void guestOptionsGoTogether() {
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--soak"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--shm-register", "0:0x100"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--guest", "--guest-blk"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--guest", "--shm-register", "7:0"));
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("--guest", "--shm-register", "0"));
        BenchOptions o = BenchOptions.parse("--guest", "--soak", "--soak-interrupts", "5000");
        assertTrue(o.guest() && o.soak());
        assertEquals(5000L, o.soakInterrupts());
        assertEquals("0:0x1000", BenchOptions.parse("--guest", "--shm-register", "0:0x1000").shmRegister());
    }
}
