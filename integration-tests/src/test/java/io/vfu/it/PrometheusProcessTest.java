package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provisioned Prometheus runs as a plain child process on loopback with a generated config, and scrapes. */
class PrometheusProcessTest {
    private final Provisioned provisioned = Provisioned.load();

    @TempDir
    Path dir;

    @Test
    void startsScrapesItselfAndStops() throws Exception {
        PrometheusProcess prom = PrometheusProcess.start(provisioned, dir, List.of(), Duration.ofSeconds(60));
        ProcessHandle handle = ProcessHandle.of(prom.pid()).orElseThrow();
        try (prom) {
            assertTrue(prom.baseUri().getHost().equals("127.0.0.1"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String body = "";
            while (System.nanoTime() < deadline) {
                HttpResponse<String> r = prom.get("/api/v1/query?query=up%7Bjob%3D%22self%22%7D");
                assertEquals(200, r.statusCode(), r.body());
                body = r.body();
                if (body.contains("\"value\":[") && body.contains(",\"1\"]")) {
                    break;
                }
                Thread.sleep(250);
            }
            assertTrue(body.contains(",\"1\"]"), "self scrape never reported up=1: " + body + "\n" + prom.logTail());
        }
        assertFalse(handle.isAlive(), "prometheus still running after close");
    }
}
