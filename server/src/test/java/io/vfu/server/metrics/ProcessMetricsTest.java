package io.vfu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.server.VfuServer;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standard JVM and process series, as an operator's dashboards expect them: present once per process. */
class ProcessMetricsTest {

    @TempDir
    Path dir;

    @Test
    void jvmAndProcessSeriesOncePerProcessWithoutDeviceTag() throws Exception {
        ServerConfig config = new ServerConfig(List.of(DeviceSpec.defaultDevice("a", dir.resolve("a.sock")),
                DeviceSpec.defaultDevice("b", dir.resolve("b.sock")),
                DeviceSpec.defaultDevice("c", dir.resolve("c.sock"))), List.of(), null);
        try (VfuServer server = VfuServer.start(config, Optional.of(0), "127.0.0.1");
                HttpClient http = HttpClient.newHttpClient()) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.metricsPort().orElseThrow() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            // One series each, no labels: the process's, not any device's.
            for (String name : List.of("jvm_threads_live_threads", "jvm_classes_loaded_classes",
                    "jvm_gc_memory_allocated_bytes_total", "process_uptime_seconds", "process_start_time_seconds",
                    "process_files_open_files", "process_files_max_files", "process_cpu_seconds_total",
                    "process_cpu_usage")) {
                assertEquals(1, body.lines().filter(l -> l.startsWith(name + " ")).count(), name + "\n" + body);
            }
            assertTrue(value(body, "jvm_memory_used_bytes\\{area=\"heap\",id=\"[^\"]+\"}") > 0, "heap in use");
            assertTrue(value(body, "jvm_threads_live_threads") >= 2, "the server's threads");
            // The server holds at least three listening sockets and the metrics socket open.
            assertTrue(value(body, "process_files_open_files") >= 4, "open files");
            assertTrue(value(body, "process_cpu_seconds_total") > 0, "CPU time");
            assertFalse(body.lines().anyMatch(l -> l.startsWith("jvm_") && l.contains("device=")), body);
            // Names `promtool check metrics` rejects are not exported.
            assertFalse(body.contains("system_cpu_count"), body);
            assertFalse(body.contains("process_cpu_time_ns"), body);
        }
    }

    @Test
    void bindingTwiceRegistersNothingMore() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ProcessMetrics process = new ProcessMetrics(registry)) {
            process.bind();
            int meters = registry.getMeters().size();
            assertTrue(meters > 20, meters + " meters");
            process.bind();
            assertEquals(meters, registry.getMeters().size());
        }
    }

    private static double value(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(exposition);
        assertTrue(m.find(), series + " in\n" + exposition);
        return Double.parseDouble(m.group(1));
    }
}
