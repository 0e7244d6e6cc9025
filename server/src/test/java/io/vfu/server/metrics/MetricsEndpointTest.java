package io.vfu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

    @Test
    void scrapeOverHttpShowsConventionalNamesWithDeviceTag() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        DeviceMetrics m = new DeviceMetrics(registry, "dev0");
        m.command(Command.REGION_READ).record(Duration.ofNanos(20_000));
        m.command(null).record(Duration.ofNanos(3_000));
        m.error(Errno.ENOSYS.code());
        m.error(4242);
        m.sessionOpened();
        m.dma(DeviceMetrics.DmaMode.MESSAGE, DeviceMetrics.DmaDirection.WRITE, 4);
        try (MetricsEndpoint ep = MetricsEndpoint.start(registry, "127.0.0.1", 0)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ep.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            String body = r.body();
            assertTrue(body.contains("vfu_command_seconds_count{command=\"REGION_READ\",device=\"dev0\"} 1"), body);
            assertTrue(body.contains("vfu_command_seconds_count{command=\"UNKNOWN\",device=\"dev0\"} 1"), body);
            assertTrue(body.contains("vfu_command_seconds_bucket{command=\"REGION_READ\",device=\"dev0\",le="), body);
            assertTrue(body.contains("vfu_errors_total{device=\"dev0\",errno=\"ENOSYS\"} 1"), body);
            assertTrue(body.contains("vfu_errors_total{device=\"dev0\",errno=\"4242\"} 1"), body);
            assertTrue(body.contains("vfu_sessions_opened_total{device=\"dev0\"} 1"), body);
            assertTrue(body.contains("vfu_dma_bytes_total{device=\"dev0\",direction=\"write\",mode=\"message\"} 4"), body);
        }
    }

    @Test
    void onlyGetIsAllowed() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (MetricsEndpoint ep = MetricsEndpoint.start(registry, "127.0.0.1", 0)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ep.port() + "/metrics"))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, r.statusCode());
        }
    }
}
