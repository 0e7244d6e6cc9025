package io.vfu.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What one scrape of the server's {@code /metrics} costs a Prometheus: series (sample lines), and body bytes as
 * sent plain and as sent to a scraper that accepts gzip (Prometheus always does).
 *
 * @param series    sample lines in the plain text format
 * @param bytes     the plain body
 * @param gzipBytes the body as served with {@code Accept-Encoding: gzip}
 */
record ScrapeSize(long series, long bytes, long gzipBytes) {

    /** Scrapes {@code metrics} twice, plain then gzip; fails unless the server actually gzipped the second. */
    static ScrapeSize measure(URI metrics) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<byte[]> plain = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            HttpResponse<byte[]> gzip = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(30))
                    .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
            if (plain.statusCode() != 200 || gzip.statusCode() != 200) {
                throw new IOException("GET " + metrics + ": HTTP " + plain.statusCode() + ", " + gzip.statusCode());
            }
            // Rule: a body that was not gzipped must not be reported as the gzipped size.
            long gzipped = gzip.headers().firstValue("Content-Encoding").orElse("").equals("gzip")
                    ? gzip.body().length : -1;
            long series = new String(plain.body(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).count();
            return new ScrapeSize(series, plain.body().length, gzipped);
        }
    }
}
