package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.client.VfioUserClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP re-reads {@code --config} in a running server process: a new device starts listening, a removed device's
 * socket goes at once while its attached client keeps being served until it detaches, a changed device is
 * reported (log and {@code vfu_config_restart_needed}) and left as it is, and a file that does not load changes
 * nothing. The server never exits on SIGHUP.
 */
class ConfigReloadTest {

    private static final Pattern METRICS = Pattern.compile("metrics=(http://127\\.0\\.0\\.1:\\d+/metrics)");
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void sighupAddsRemovesAndReportsChangedDevices() throws Exception {
        Path s0 = dir.resolve("dev0.sock");
        Path s1 = dir.resolve("dev1.sock");
        Path s2 = dir.resolve("dev2.sock");
        Path config = dir.resolve("vfu.json");
        Files.writeString(config, """
                {"devices": [{"name": "dev0", "socket": "%s", "msixVectors": 64},
                             {"name": "dev1", "socket": "%s"}]}""".formatted(s0, s1));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path stderr = dir.resolve("server.stderr");
        Process server = new ProcessBuilder(java, "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-jar",
                ServerProcessTest.serverJar().toString(), "--config", config.toString(), "--metrics-port", "0")
                .redirectError(stderr.toFile()).start();
        try {
            String ready = Clients.firstLine(server, Duration.ofSeconds(30));
            Matcher m = METRICS.matcher(String.valueOf(ready));
            assertTrue(m.find(), "ready line: " + ready);
            URI metrics = URI.create(m.group(1));
            assertEquals(1, scrape(metrics).sum("vfu_build_info"), "vfu_build_info is 1, with version and commit");

            try (VfioUserClient onDev1 = Clients.negotiated(s1)) {
                // dev0 changes (64 -> 128 vectors), dev1 goes, dev2 comes.
                Files.writeString(config, """
                        {"devices": [{"name": "dev0", "socket": "%s", "msixVectors": 128},
                                     {"name": "dev2", "socket": "%s", "deviceId": "0x0003"}]}""".formatted(s0, s2));
                sighup(server);
                Await.until(WAIT, () -> Files.exists(s2), () -> "dev2's socket appears");
                try (VfioUserClient onDev2 = Clients.negotiated(s2)) {
                    assertEquals(0x0003_1b5aL, Clients.read32(onDev2, Clients.REGION_CONFIG, 0), "dev2 is the new device");
                }
                Await.until(WAIT, () -> !Files.exists(s1), () -> "dev1's socket goes at once");
                assertEquals(0x3155_4656L, Clients.read32(onDev1, Clients.REGION_BAR0, 0),
                        "dev1's attached client is still served");
                Scrape s = scrape(metrics);
                assertEquals(1, s.sum("vfu_config_reloads_total", Map.of("result", "ok")));
                assertEquals(1, s.sum("vfu_config_restart_needed", Map.of("device", "dev0")));
                assertEquals(1, s.sum("vfu_sessions_opened_total", Map.of("device", "dev1")),
                        "dev1 is still in the scrape while its client is attached");
            }
            Await.until(WAIT, () -> scrape(metrics).sum("vfu_sessions_opened_total", Map.of("device", "dev1")) == 0,
                    () -> "dev1's series go once its client detached");
            try (VfioUserClient onDev0 = Clients.negotiated(s0)) {
                assertEquals(64, Clients.read32(onDev0, Clients.REGION_BAR0, 0x08),
                        "dev0 still serves as configured at start (64 vectors) until a restart");
            }
            assertTrue(Files.readString(stderr).contains("device dev0 changed"), Files.readString(stderr));

            Files.writeString(config, "{\"devices\": [{\"name\": \"dev0\", \"socket\": 5}]}");
            sighup(server);
            Await.until(WAIT, () -> scrape(metrics).sum("vfu_config_reloads_total", Map.of("result", "error")) == 1,
                    () -> "a file that does not load is counted as an error");
            assertTrue(Files.exists(s0) && Files.exists(s2), "and changes nothing");
            assertTrue(server.isAlive(), "SIGHUP never ends the server");
        } finally {
            server.destroy();
            assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            server.destroyForcibly();
        }
        assertFalse(Files.exists(s0));
        assertFalse(Files.exists(s2), "a device added by SIGHUP is removed at SIGTERM like the others");
    }

    private static void sighup(Process p) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor());
    }

    private static Scrape scrape(URI metrics) {
        try {
            return Scrape.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        } catch (Exception e) {
            throw new IllegalStateException("scrape of " + metrics + " failed", e);
        }
    }
}
