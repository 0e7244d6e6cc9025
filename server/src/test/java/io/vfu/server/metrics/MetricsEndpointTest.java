package io.vfu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile List<String> notReady = List.of();
    private MetricsEndpoint endpoint;

    @BeforeEach
    void start() throws IOException {
        endpoint = MetricsEndpoint.start(registry, "127.0.0.1", 0, () -> notReady);
    }

    @AfterEach
    void stop() {
        endpoint.close();
        http.close();
    }

    @Test
    void scrapeOverHttpShowsConventionalNamesWithDeviceTag() throws Exception {
        DeviceMetrics m = new DeviceMetrics(registry, "dev0");
        m.command(Command.REGION_READ).record(Duration.ofNanos(20_000));
        m.command(null).record(Duration.ofNanos(3_000));
        m.error(Errno.ENOSYS.code());
        m.error(4242);
        m.sessionOpened();
        m.dma(DeviceMetrics.DmaMode.MESSAGE, DeviceMetrics.DmaDirection.WRITE, 4);
        HttpResponse<String> r = get("/metrics", List.of());
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

    @Test
    void commandHistogramsExistOnlyForCommandsSeen() throws Exception {
        DeviceMetrics m = new DeviceMetrics(registry, "dev0");
        assertFalse(get("/metrics", List.of()).body().contains("vfu_command_seconds"), "no command seen yet");
        m.command(Command.VERSION).record(Duration.ofNanos(20_000));
        String body = get("/metrics", List.of()).body();
        assertTrue(body.contains("vfu_command_seconds_count{command=\"VERSION\",device=\"dev0\"} 1"), body);
        assertEquals(1, body.lines().filter(l -> l.startsWith("vfu_command_seconds_count")).count(), body);
        // The same timer on every later call: one series, counting on.
        m.command(Command.VERSION).record(Duration.ofNanos(20_000));
        assertTrue(get("/metrics", List.of()).body()
                .contains("vfu_command_seconds_count{command=\"VERSION\",device=\"dev0\"} 2"));
    }

    @Test
    void gzipWhenTheScraperAcceptsIt() throws Exception {
        new DeviceMetrics(registry, "dev0").sessionOpened();
        HttpResponse<byte[]> zipped = http.send(request("/metrics", List.of("Accept-Encoding", "gzip")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, zipped.statusCode());
        assertEquals("gzip", zipped.headers().firstValue("Content-Encoding").orElse(""));
        String unzipped;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(zipped.body()))) {
            unzipped = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(unzipped.contains("vfu_sessions_opened_total{device=\"dev0\"} 1"), unzipped);

        HttpResponse<String> plain = get("/metrics", List.of());
        assertTrue(plain.headers().firstValue("Content-Encoding").isEmpty(), "no gzip unless asked for");
        assertTrue(plain.body().contains("vfu_sessions_opened_total{device=\"dev0\"} 1"));
    }

    @Test
    void acceptHeaderChoosesOpenMetrics() throws Exception {
        new DeviceMetrics(registry, "dev0").sessionOpened();
        HttpResponse<String> r = get("/metrics", List.of("Accept", "application/openmetrics-text; version=1.0.0"));
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                r.headers().toString());
        // OpenMetrics names the counter family without _total and ends with # EOF.
        assertTrue(r.body().contains("# TYPE vfu_sessions_opened counter"), r.body());
        assertTrue(r.body().contains("vfu_sessions_opened_total{device=\"dev0\"} 1"), r.body());
        assertTrue(r.body().endsWith("# EOF\n"), r.body());
    }

    @Test
    void headAnswersWithoutBodyAsGetWould() throws Exception {
        HttpResponse<String> r = http.send(request("/metrics", List.of("Accept", "application/openmetrics-text",
                "Accept-Encoding", "gzip")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                r.headers().toString());
        assertEquals("", r.body());
    }

    @Test
    void healthzIsAliveWhateverTheDevices() throws Exception {
        notReady = List.of("dev0: /x is not listening");
        HttpResponse<String> r = get("/healthz", List.of());
        assertEquals(200, r.statusCode());
        assertEquals("ok\n", r.body());
    }

    @Test
    void readyzReportsWhatIsNotReady() throws Exception {
        assertEquals(200, get("/readyz", List.of()).statusCode());
        notReady = List.of("dev0: /run/vfu/dev0.sock is not listening");
        HttpResponse<String> r = get("/readyz", List.of());
        assertEquals(503, r.statusCode());
        assertEquals("not ready: 1\ndev0: /run/vfu/dev0.sock is not listening\n", r.body());
    }

    @Test
    void readyzBodyStaysShortForManyBrokenDevices() throws Exception {
        notReady = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "dev" + i + ": gone").toList();
        HttpResponse<String> r = get("/readyz", List.of());
        assertEquals(503, r.statusCode());
        assertTrue(r.body().startsWith("not ready: 1000\ndev0: gone\n"), r.body());
        assertTrue(r.body().endsWith("... and 980 more\n"), r.body());
    }

    @Test
    void onlyGetIsAllowed() throws Exception {
        for (String path : List.of("/metrics", "/healthz", "/readyz")) {
            HttpResponse<String> r = http.send(request(path, List.of())
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, r.statusCode(), path);
            assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""), path);
        }
    }

    @Test
    void otherPathsAreNotFound() throws Exception {
        for (String path : List.of("/", "/metricsx", "/metrics/x", "/healthz/", "/ready")) {
            assertEquals(404, get(path, List.of()).statusCode(), path);
        }
    }

    private HttpResponse<String> get(String path, List<String> headers) throws Exception {
        return http.send(request(path, headers).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path, List<String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path));
        for (int i = 0; i < headers.size(); i += 2) {
            b.header(headers.get(i), headers.get(i + 1));
        }
        return b;
    }
}
