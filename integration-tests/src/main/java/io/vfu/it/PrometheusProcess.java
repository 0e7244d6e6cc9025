package io.vfu.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Prometheus server run as a plain child process (no systemd) on loopback, with a generated configuration
 * that scrapes the given targets (job {@code vfu}) and itself (job {@code self}) every second. Its storage and log live in a folder the test owns.
 */
public final class PrometheusProcess implements AutoCloseable {
    private final Process process;
    private final URI base;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PrometheusProcess(Process process, URI base, Path log) {
        this.process = process;
        this.base = base;
        this.log = log;
    }

    /**
     * Writes {@code dir/prometheus.yml}, starts Prometheus on a free loopback port and waits until
     * {@code /-/ready} answers 200.
     *
     * @param targets {@code host:port} pairs for one job named {@code vfu} (may be empty)
     */
    public static PrometheusProcess start(Provisioned provisioned, Path dir, List<String> targets, Duration timeout)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringBuilder yml = new StringBuilder("""
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: vfu
                    static_configs:
                      - targets: [""");
        yml.append(String.join(", ", targets.stream().map(t -> "'" + t + "'").toList())).append("]\n");
        // Prometheus also scrapes itself, so a test can see scraping work before any target of its own exists.
        yml.append("  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:").append(port).append("']\n");
        Path config = Files.writeString(dir.resolve("prometheus.yml"), yml);
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(provisioned.prometheusBinary().toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--web.enable-lifecycle")
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        PrometheusProcess prom = new PrometheusProcess(p, URI.create("http://127.0.0.1:" + port), log);
        try {
            prom.awaitReady(timeout);
            return prom;
        } catch (IOException | RuntimeException e) {
            prom.close();
            throw e;
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("prometheus exited with code " + process.exitValue() + ":\n" + logTail());
            }
            try {
                if (get("/-/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(100);
        }
        throw new IOException("prometheus not ready within " + timeout + ":\n" + logTail());
    }

    /** Sends a GET for {@code pathAndQuery} (e.g. {@code /api/v1/query?query=up}) to this server. */
    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(pathAndQuery)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public URI baseUri() {
        return base;
    }

    public long pid() {
        return process.pid();
    }

    /** The last lines of Prometheus' own log. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "[no log: " + e + "]";
        }
    }

    /** Stops Prometheus (SIGTERM, then SIGKILL after 10 s). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
