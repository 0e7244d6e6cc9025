package io.vfu.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code vfu_jvm_allocated_bytes_total} (bytes the server's JVM has allocated on its heap, all threads)
 * from the server's Prometheus endpoint with a plain HTTP GET. Each scrape allocates in the server too (the
 * exposition text and the HTTP exchange); {@link AllocationBench} measures that and subtracts it.
 */
final class MetricsScraper implements AutoCloseable {

    /** The sample line of the counter: no labels (it is process-wide), value as Prometheus prints a double. */
    private static final Pattern ALLOCATED = Pattern.compile("(?m)^vfu_jvm_allocated_bytes_total (\\S+)$");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpRequest request;

    MetricsScraper(URI metrics) {
        this.request = HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET().build();
    }

    /** The server's total allocated bytes now. */
    long allocatedBytes() throws IOException {
        HttpResponse<String> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while scraping " + request.uri(), e);
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + request.uri() + ": HTTP " + r.statusCode());
        }
        return parse(r.body());
    }

    /** The counter's value in an exposition text; fails if it is missing or not a finite whole number. */
    static long parse(String exposition) throws IOException {
        Matcher m = ALLOCATED.matcher(exposition);
        if (!m.find()) {
            throw new IOException("no vfu_jvm_allocated_bytes_total sample in the scrape");
        }
        double v;
        try {
            v = Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            throw new IOException("vfu_jvm_allocated_bytes_total: not a number: " + m.group(1), e);
        }
        // Rule: NaN means the server's JVM cannot measure allocation; a figure made from it would be noise.
        if (!Double.isFinite(v) || v < 0) {
            throw new IOException("vfu_jvm_allocated_bytes_total is " + m.group(1) + " (JVM cannot measure it)");
        }
        return (long) v;
    }

    @Override
    public void close() {
        http.close();
    }
}
