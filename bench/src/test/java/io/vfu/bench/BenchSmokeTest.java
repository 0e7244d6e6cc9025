package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
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
            "server_alloc_scrape_bytes", "devices_idle_series_per_device", "devices_idle_scrape_kib",
            "devices_idle_scrape_gzip_kib");

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
        // The idle scrape was gzipped when asked (a plain body reported as gzipped would be -1 or as large).
        assertTrue(json.get("devices_idle_scrape_gzip_kib").asDouble() < json.get("devices_idle_scrape_kib").asDouble());
        // Without --server-jar the server runs from class directories, which the JVM does not put in an AOT cache,
        // so there may be no cache here (startup_ms then says so); bin/vfu-bench passes the jar and gets one.
        // Either way the figure reports the cache the run left in --cache, not a made-up size.
        Path aot = dir.resolve("cache").resolve("vfu-server.aot");
        double aotMib = Files.exists(aot) ? Files.size(aot) / (1024.0 * 1024.0) : 0;
        assertEquals(aotMib, json.get("startup_aot_cache_mib").asDouble(), halfUnit(aotMib), "startup_aot_cache_mib");
        assertAllocationFigures(json);
        // The latency server (default -XX:+UseSerialGC) logged its GC to the work directory; the pauses counted
        // from it may be zero in a smoke run, but then the log must still show the logging was on.
        assertLogNamesCollector(dir.resolve("work").resolve("gc-latency.log"), "Serial");
        assertPausesConsistent("latency server", json.get("latency_server_gc_pauses"),
                json.get("latency_server_gc_pause_max_ms"), json.get("latency_server_gc_pause_total_ms"));
        assertGcSection(json.get("gc"), dir.resolve("work"));
    }

    /**
     * Pause figures that agree with each other: a whole count; no pause means a maximum and total of zero; with
     * pauses the longest is positive and the total lies between the longest and count x longest.
     */
    private static void assertPausesConsistent(String who, JsonNode pauses, JsonNode max, JsonNode total) {
        assertTrue(pauses.isIntegralNumber() && max.isNumber() && total.isNumber(), who + ": " + pauses + max + total);
        int n = pauses.asInt();
        double m = max.asDouble();
        double t = total.asDouble();
        if (n == 0) {
            assertEquals(0, m, who + ": no pause but a longest of " + m + " ms");
            assertEquals(0, t, who + ": no pause but a total of " + t + " ms");
        } else {
            // The JSON rounds each figure on its own (Results.format), so the upper bound allows that rounding.
            assertTrue(n > 0 && m > 0 && t >= m && t - halfUnit(t) <= n * (m + halfUnit(m)),
                    who + ": " + n + " pauses, longest " + m + " ms, total " + t + " ms");
        }
    }

    /** Half the last digit the JSON prints for {@code v}: 3 decimals below 10, 1 below 1000, none above. */
    private static double halfUnit(double v) {
        return v >= 1000 ? 0.5 : v >= 10 ? 0.05 : 0.0005;
    }

    /** The GC log exists and its start-up line names the collector the JVM really used. */
    private static void assertLogNamesCollector(Path log, String collector) throws java.io.IOException {
        assertTrue(Files.exists(log), "no GC log " + log);
        String expected = "[gc] Using " + collector;
        assertTrue(Files.readAllLines(log).stream().anyMatch(l -> l.contains(expected)),
                log + " does not say " + expected);
    }

    /**
     * Allocation per message is measured, not assumed: present and finite, and bounded both ways. Zero is a
     * legitimate result (an allocation-free path), so the lower bound only allows scrape noise (a scrape costs
     * ~400 KiB, give or take ~40 KiB while it is being compiled) spread over the smoke's 2,000 messages. Above
     * 4 KiB per 4-byte message is not a plausible server, but a unit or subtraction error of the harness.
     */
    private static void assertAllocationFigures(JsonNode json) {
        for (String key : List.of("server_alloc_bytes_per_read", "server_alloc_bytes_per_posted_write",
                "server_alloc_bytes_per_write", "server_alloc_bytes_per_write_multi",
                "server_alloc_bytes_per_irq_eventfd", "server_alloc_bytes_per_irq_posted_write")) {
            assertTrue(json.has(key), "missing " + key);
            assertTrue(json.get(key).isNumber(), key + " is not a number: " + json.get(key));
            double v = json.get(key).asDouble();
            assertTrue(v > -100 && v < 4096, key + " out of range: " + v);
        }
    }

    /** The JVM's own name for each collector, as its GC log's start-up line gives it. */
    private static final java.util.Map<String, String> LOGGED_NAMES = java.util.Map.of("serial", "Serial",
            "parallel", "Parallel", "g1", "G1", "zgc", "The Z Garbage Collector");

    /** One column per collector, each with every figure, sane, and each measured under its collector. */
    private static void assertGcSection(JsonNode gc, Path work) throws java.io.IOException {
        assertTrue(gc != null && gc.isObject(), "missing gc section");
        assertEquals(List.of("serial", "parallel", "g1", "zgc"), fieldNames(gc));
        for (var e : gc.properties()) {
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
            // Pauses are counted from the servers' GC logs (the last round's is kept in the work directory): zero
            // is possible in a short run, so the log must show the collector really in use.
            assertLogNamesCollector(work.resolve("gc-" + name + ".log"), LOGGED_NAMES.get(name));
            assertPausesConsistent(name, c.get("gc_pauses"), c.get("gc_pause_max_ms"), c.get("gc_pause_total_ms"));
        }
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
