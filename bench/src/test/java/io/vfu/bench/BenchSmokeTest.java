package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness end to end in {@code --smoke} mode: a real server process, the C and Java floors, every figure.
 * Asserts that the JSON a CI job or a reader relies on is complete and plausible; no timing thresholds (the
 * machine is shared and smoke counts are tiny).
 */
class BenchSmokeTest {

    /** The keys issue 6 names, plus core count and the ratios. */
    static final List<String> REQUIRED = List.of("floor_p50_us", "cfgread_p50_us", "cfgread_p99_us",
            "bar0read_p50_us", "posted_write_msgs_per_s", "floor_oneway_msgs_per_s", "pipelined_reads_per_s",
            "irq_latency_p50_us", "append_first100_us", "append_last100_us", "devices", "devices_rss_mib",
            "startup_ms", "startup_plain_ms", "startup_cds_ms", "cores", "ratio_cfgread_p50_vs_floor", "ratio_posted_vs_floor_oneway",
            "ratio_irq_p50_vs_floor", "ratio_append_last_vs_first");

    @Test
    void smokeRunReportsEveryFigure(@TempDir Path dir) throws Exception {
        BenchOptions o = BenchOptions.parse("--smoke", "--json", "--cache", dir.resolve("cache").toString(),
                "--work", dir.resolve("work").toString());
        JsonNode json = new ObjectMapper().readTree(new Bench(o).run().toJson());

        for (String key : REQUIRED) {
            assertTrue(json.has(key), "missing " + key);
            assertTrue(json.get(key).isNumber(), key + " is not a number: " + json.get(key));
            assertTrue(json.get(key).asDouble() > 0, key + " must be positive: " + json.get(key));
        }
        assertEquals(Runtime.getRuntime().availableProcessors(), json.get("cores").asInt());
        assertEquals(8, json.get("devices").asInt());
        // A p99 is never below its p50, and a figure's p50 is never below the round trip it contains.
        assertTrue(json.get("cfgread_p99_us").asDouble() >= json.get("cfgread_p50_us").asDouble());
        assertTrue(json.get("floor_p99_us").asDouble() >= json.get("floor_p50_us").asDouble());
        // The ratio is the per-run quotient, so it agrees in direction with the medians it came from.
        double ratio = json.get("ratio_cfgread_p50_vs_floor").asDouble();
        assertTrue(ratio > 0 && Double.isFinite(ratio));
        // The server of 8 devices is a live JVM: its RSS is at least a few MiB and far below the 1 GiB target.
        double rss = json.get("devices_rss_mib").asDouble();
        assertTrue(rss > 8 && rss < 1024, "rss " + rss);
        assertEquals(128, json.get("append_vectors").asInt());
        // Without --server-jar the server runs from class directories, which the JVM does not put in an AOT cache,
        // so the size may be 0 here (startup_ms then says so); bin/vfu-bench passes the jar and gets a cache.
        assertTrue(json.get("startup_aot_cache_mib").asDouble() >= 0);
    }

    @Test
    void rejectsUnknownOptions() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--fast"));
        assertTrue(e.getMessage().contains("--fast"));
        assertThrows0("--runs", "0");
    }

    private static void assertThrows0(String option, String value) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse(option, value));
    }
}
