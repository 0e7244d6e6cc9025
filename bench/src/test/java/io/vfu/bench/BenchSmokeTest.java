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

    /** The keys issue 6 names, plus core count, the ratios and the scrape's own allocation (never zero). */
    static final List<String> REQUIRED = List.of("floor_p50_us", "cfgread_p50_us", "cfgread_p99_us",
            "bar0read_p50_us", "posted_write_msgs_per_s", "floor_oneway_msgs_per_s", "pipelined_reads_per_s",
            "irq_latency_p50_us", "append_first100_us", "append_last100_us", "devices", "devices_rss_mib",
            "startup_ms", "startup_plain_ms", "startup_cds_ms", "cores", "ratio_cfgread_p50_vs_floor",
            "ratio_posted_vs_floor_oneway", "ratio_irq_p50_vs_floor", "ratio_append_last_vs_first",
            "server_alloc_scrape_bytes");

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
        assertAllocationFigures(json);
        assertTrue(json.get("latency_server_gc_pauses").asInt() >= 0);
        assertTrue(json.get("latency_server_gc_pause_max_ms").asDouble() >= 0);
        assertGcSection(json.get("gc"));
    }

    /**
     * Allocation per message is measured, not assumed: present and finite, and bounded both ways. Zero is a
     * legitimate result (an allocation-free path), so the lower bound only allows scrape noise (a scrape costs
     * ~400 KiB, give or take ~40 KiB while it is being compiled) spread over the smoke's 2,000 messages. Above
     * 4 KiB per 4-byte message is not a plausible server, but a unit or subtraction error of the harness.
     */
    private static void assertAllocationFigures(JsonNode json) {
        for (String key : List.of("server_alloc_bytes_per_read", "server_alloc_bytes_per_posted_write")) {
            assertTrue(json.has(key), "missing " + key);
            assertTrue(json.get(key).isNumber(), key + " is not a number: " + json.get(key));
            double v = json.get(key).asDouble();
            assertTrue(v > -100 && v < 4096, key + " out of range: " + v);
        }
    }

    /** One column per collector, each with every figure, sane. */
    private static void assertGcSection(JsonNode gc) {
        assertTrue(gc != null && gc.isObject(), "missing gc section");
        assertEquals(List.of("serial", "parallel", "g1", "zgc"), fieldNames(gc));
        gc.properties().forEach(e -> {
            String name = e.getKey();
            JsonNode c = e.getValue();
            assertEquals(GcBench.COLLECTORS.get(name), c.get("option").asText());
            for (String key : List.of("cfgread_p50_us", "cfgread_max_us", "posted_write_msgs_per_s", "startup_ms",
                    "rss_ready_mib", "rss_loaded_mib", "devices_rss_mib", "devices_read_p99_us")) {
                assertTrue(c.path(key).isNumber() && c.get(key).asDouble() > 0, name + "." + key + ": " + c.get(key));
            }
            assertTrue(c.get("cfgread_p99_us").asDouble() >= c.get("cfgread_p50_us").asDouble(), name);
            assertTrue(c.get("cfgread_max_us").asDouble() >= c.get("cfgread_p99_us").asDouble(), name);
            assertEquals(4, c.get("devices").asInt(), name);
            assertTrue(c.get("rss_ready_mib").asDouble() > 8 && c.get("devices_rss_mib").asDouble() < 1024, name);
            // Pauses are counted from the server's GC log: zero is possible in a short run, negative is not.
            assertTrue(c.get("gc_pauses").asInt() >= 0, name);
            assertTrue(c.get("gc_pause_max_ms").asDouble() >= 0, name);
            assertTrue(c.get("gc_pause_total_ms").asDouble() >= c.get("gc_pause_max_ms").asDouble(), name);
        });
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void rejectsUnknownOptions() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse("--fast"));
        assertTrue(e.getMessage().contains("--fast"));
        assertThrows0("--runs", "0");
        assertThrows0("--no-gc", "--gc-only");
    }

    @Test
    void collectorSectionReplacesOnlyTheCollectorChoice() {
        BenchOptions o = BenchOptions.parse("--server-jvm-opt", "-XX:+UseSerialGC", "--server-jvm-opt", "-Xmx128m");
        assertEquals(List.of("-XX:+UseZGC", "-Xmx128m"), new GcBench(o, Path.of(".")).jvmOptions("-XX:+UseZGC"));
    }

    private static void assertThrows0(String option, String value) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse(option, value));
    }
}
