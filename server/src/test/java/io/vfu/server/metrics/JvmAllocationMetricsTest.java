package io.vfu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class JvmAllocationMetricsTest {

    private static final Pattern SAMPLE = Pattern.compile("(?m)^vfu_jvm_allocated_bytes_total (\\S+)$");

    /** Kept in a field so the allocations below cannot be optimised away. */
    static volatile Object sink;

    @Test
    void counterGrowsByAtLeastWhatThisThreadAllocated() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmAllocationMetrics.bind(registry);
        double before = valueOf(registry.scrape());
        for (int i = 0; i < 64; i++) {
            sink = new byte[256 * 1024];
        }
        double after = valueOf(registry.scrape());
        // 64 arrays of 256 KiB are 16 MiB; a counter that missed them (or went backwards) fails here.
        assertTrue(after - before >= 16 * 1024 * 1024, "grew by " + (after - before));
    }

    @Test
    void servedOverHttpWithoutDeviceTag() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmAllocationMetrics.bind(registry);
        try (MetricsEndpoint ep = MetricsEndpoint.start(registry, "127.0.0.1", 0, Readiness.ALWAYS)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ep.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("# TYPE vfu_jvm_allocated_bytes_total counter"), r.body());
            // A JVM that has served an HTTP request has allocated far more than a megabyte.
            assertTrue(valueOf(r.body()) > 1024 * 1024, r.body());
        }
    }

    private static double valueOf(String exposition) {
        Matcher m = SAMPLE.matcher(exposition);
        assertTrue(m.find(), exposition);
        return Double.parseDouble(m.group(1));
    }
}
