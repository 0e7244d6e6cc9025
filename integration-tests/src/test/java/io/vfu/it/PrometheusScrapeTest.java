package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) scrapes the server's metrics endpoint on loopback while QEMU is attached,
 * and its query API reports the series a user would graph.
 */
class PrometheusScrapeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesTheServersSeries() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            int port = rig.server.metricsPort().orElseThrow();
            HttpResponse<String> direct = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, direct.statusCode());
            assertTrue(direct.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                    direct.headers().toString());

            rig.enableMsix();
            rig.programMsix(0, 0x40);
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 0);
            rig.awaitVector(mark);

            try (PrometheusProcess prom = PrometheusProcess.start(rig.provisioned, dir.resolve("prom"),
                    List.of("127.0.0.1:" + port), Duration.ofSeconds(60))) {
                assertEquals(1.0, await(prom, "up{job=\"vfu\"}", 1.0), "target up:\n" + prom.logTail());
                assertEquals(1.0, await(prom, "vfu_sessions_opened_total{device=\"default\"}", 1.0));
                assertEquals(0.0, await(prom, "vfu_sessions_closed_total{device=\"default\"}", 0.0));
                assertEquals(1.0, await(prom, "vfu_command_seconds_count{command=\"VERSION\",device=\"default\"}", 1.0));
                assertEquals(7.0, await(prom,
                        "vfu_command_seconds_count{command=\"DEVICE_GET_REGION_INFO\",device=\"default\"}", 7.0));
                assertEquals(1.0, await(prom,
                        "sum(vfu_set_irqs_total{index=\"MSIX\",device=\"default\"}) > bool 1", 1.0),
                        "MSI-X enable and vector 0 counted");
                assertEquals(1.0, await(prom, "vfu_vector_budget_used{device=\"default\"}", 1.0));
                assertEquals(1.0, await(prom, "vfu_msix_vectors_assigned{device=\"default\"}", 1.0));
                assertEquals(1.0, await(prom,
                        "vfu_interrupts_delivered_total{index=\"MSIX\",device=\"default\"}", 1.0));
                assertEquals(3.0, await(prom, "count(vfu_interrupts_signalled_total{device=\"default\"})", 3.0),
                        "interrupt series per index: INTX, MSIX, IMS");
                // A latency histogram a user can take quantiles of: 12 bounds plus +Inf, cumulative.
                assertEquals(13.0, await(prom,
                        "count(vfu_command_seconds_bucket{command=\"REGION_READ\",device=\"default\"})", 13.0));
                assertEquals(1.0, await(prom, "vfu_command_seconds_bucket{command=\"REGION_READ\",le=\"+Inf\"}"
                        + " == bool on(command, device) vfu_command_seconds_count", 1.0));
                assertEquals(4.0, await(prom, "count(vfu_dma_bytes_total{device=\"default\"})", 4.0),
                        "DMA bytes by mode and direction");

                // A new session shows up at the next scrape.
                rig.attach(a -> a);
                assertEquals(2.0, await(prom, "vfu_sessions_opened_total{device=\"default\"}", 2.0));
                assertEquals(1.0, await(prom, "vfu_sessions_closed_total{device=\"default\"}", 1.0));
            }
        }
    }

    /** Polls an instant query until its single value equals {@code expected} (20 s); returns the last value. */
    private static double await(PrometheusProcess prom, String query, double expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double last = Double.NaN;
        String body = "";
        do {
            HttpResponse<String> r = prom.get("/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), r.body());
            body = r.body();
            JsonNode result = JSON.readTree(body).path("data").path("result");
            if (result.size() == 1) {
                last = Double.parseDouble(result.get(0).path("value").get(1).asText());
                if (last == expected) {
                    return last;
                }
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("query " + query + " never returned " + expected + "; last " + last + ": " + body);
    }
}
