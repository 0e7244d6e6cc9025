package io.vfu.server.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The metrics port, on the JDK's built-in HTTP server. It binds to loopback unless told otherwise: metrics
 * describe guests and are not for the network by default.
 * <ul>
 *   <li>{@code GET /metrics}: the scrape, served by the Prometheus client's own handler, which picks the format
 *       from the scraper's {@code Accept} header (Prometheus text by default, OpenMetrics for
 *       {@code application/openmetrics-text}, protobuf when asked for) and gzips the body when the scraper sends
 *       {@code Accept-Encoding: gzip}; {@code ?name[]=...} selects metrics by name.</li>
 *   <li>{@code GET /healthz}: 200 while the process answers (liveness).</li>
 *   <li>{@code GET /readyz}: 200 when every device's socket takes clients, otherwise 503 naming those that do
 *       not (see {@link Readiness}).</li>
 * </ul>
 * Other paths are 404 and other methods 405.
 *
 * <p>Bounded: two threads serve requests and at most {@link #QUEUED} more wait (a connection past that is
 * closed at once); a request's headers must arrive within {@link #REQUEST_SECONDS} s and fit in
 * {@link #HEADER_BYTES} bytes; a body is never read (the JDK drains at most 64 KiB of it, then drops the
 * connection).
 */
public final class MetricsEndpoint implements AutoCloseable {

    static final int QUEUED = 16;
    static final int REQUEST_SECONDS = 10;
    static final int HEADER_BYTES = 16 * 1024;

    static {
        // Rule: a scraper that sends slowly or sends huge headers cannot hold a serving thread or memory. The
        // JDK reads these once, when its first HTTP server is created; a value set on the command line wins.
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqHeaderSize", Integer.toString(HEADER_BYTES));
    }

    private final HttpServer http;
    private final ThreadPoolExecutor executor;
    private final ProcessMetrics process;

    private MetricsEndpoint(HttpServer http, ThreadPoolExecutor executor, ProcessMetrics process) {
        this.http = http;
        this.executor = executor;
        this.process = process;
    }

    /**
     * Starts serving {@code registry} on {@code host:port} (port 0 picks a free one). The first scrape also
     * registers the JVM and process metrics ({@link ProcessMetrics}) in {@code registry}.
     */
    public static MetricsEndpoint start(PrometheusMeterRegistry registry, String host, int port,
            Readiness readiness) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(host, port), QUEUED);
        ThreadPoolExecutor executor = new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUED), Thread.ofPlatform().daemon().name("vfu-metrics-http-", 0).factory(),
                new ThreadPoolExecutor.AbortPolicy()); // the JDK server closes a connection it cannot queue
        // Rule: both threads exist from the start, so serving a scrape never changes the process's thread count.
        executor.prestartAllCoreThreads();
        http.setExecutor(executor);
        ProcessMetrics process = new ProcessMetrics(registry);
        MetricsHandler scrape = new MetricsHandler(PrometheusProperties.get(), registry.getPrometheusRegistry());
        ExpositionFormats formats = ExpositionFormats.init();
        http.createContext("/metrics", new GetOnly("/metrics", exchange -> {
            if (exchange.getRequestMethod().equals("HEAD")) {
                // Rule: HEAD is a probe: headers as GET would send them, no scrape, no body (and no gzip, which
                // the Prometheus handler would try to write a body for).
                exchange.getResponseHeaders().set("Content-Type",
                        formats.findWriter(exchange.getRequestHeaders().getFirst("Accept")).getContentType());
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            process.bind();
            scrape.handle(exchange);
        }));
        http.createContext("/healthz", new GetOnly("/healthz", new HealthHandler(Readiness.ALWAYS)));
        http.createContext("/readyz", new GetOnly("/readyz", new HealthHandler(readiness)));
        http.start();
        return new MetricsEndpoint(http, executor, process);
    }

    /** The port actually bound. */
    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        process.close();
    }
}
