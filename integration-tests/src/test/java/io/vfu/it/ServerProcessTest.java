package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as a user runs it: {@code java -jar server/target/vfu-server.jar --config FILE --metrics-port 0},
 * two devices with their own layouts on their own sockets, one QEMU with both attached, SIGTERM to stop.
 */
class ServerProcessTest {
    private static final Pattern READY = Pattern.compile(
            "^vfu-server ready dev0=(\\S+) dev1=(\\S+) metrics=(http://127\\.0\\.0\\.1:\\d+/metrics)$");

    private final Provisioned provisioned = Provisioned.load();

    @TempDir
    Path dir;

    static Path serverJar() {
        Path jar = Path.of("..", "server", "target", "vfu-server.jar").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), jar + " is missing: build the server module first (mvn -pl "
                + "integration-tests -am verify does)");
        return jar;
    }

    @Test
    void twoDevicesFromAConfigFileAttachToOneQemuAndSigtermRemovesTheSockets() throws Exception {
        Path s0 = dir.resolve("dev0.sock");
        Path s1 = dir.resolve("dev1.sock");
        Path config = Files.writeString(dir.resolve("vfu.json"), """
                {"devices": [
                  {"name": "dev0", "socket": "%s"},
                  {"name": "dev1", "socket": "%s", "deviceId": "0x0002", "msixVectors": 64, "imsEntries": 256,
                   "vectorBudget": 128}
                ]}
                """.formatted(s0, s1));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process server = new ProcessBuilder(java, "-XX:+UseSerialGC", "-jar", serverJar().toString(),
                "--config", config.toString(), "--metrics-port", "0")
                .redirectError(dir.resolve("server.stderr").toFile()).start();
        try {
            String ready = Clients.firstLine(server, Duration.ofSeconds(30));
            Matcher m = READY.matcher(String.valueOf(ready));
            assertTrue(m.matches(), "ready line: " + ready + "\n" + Files.readString(dir.resolve("server.stderr")));
            assertEquals(s0.toString(), m.group(1));
            assertEquals(s1.toString(), m.group(2));
            URI metrics = URI.create(m.group(3));
            for (Path s : List.of(s0, s1)) {
                assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                        Files.getPosixFilePermissions(s), "socket mode 0600: " + s);
            }

            QemuArgs args = QemuArgs.qtest(provisioned).trace("apic_deliver_irq")
                    .vfioUserDevice(s0, Map.of("addr", "0x4"))
                    .vfioUserDevice(s1, Map.of("addr", "0x5"));
            try (QtestSession q = QtestSession.start(args)) {
                PciConfig cfg = new PciConfig(q);
                PciAddress d0 = new PciAddress(0, 4, 0);
                PciAddress d1 = new PciAddress(0, 5, 0);
                assertEquals(0x0001_1b5aL, cfg.read32(d0, 0));
                assertEquals(0x0002_1b5aL, cfg.read32(d1, 0));
                assertEquals(2047, cfg.read16(d0, 0x52) & 0x7ff);
                assertEquals(63, cfg.read16(d1, 0x52) & 0x7ff, "dev1 has 64 MSI-X vectors");
                assertEquals(256, cfg.read32(d1, 0xac), "dev1 has 256 IMS entries");

                long bar0a = PciBars.byIndex(new PciBars(cfg).assign(d0), 0).orElseThrow().address();
                List<PciBars.Bar> barsB = new PciBars(cfg).assign(d1, PciBars.MMIO_BASE + 0x0100_0000L);
                long bar0b = PciBars.byIndex(barsB, 0).orElseThrow().address();
                long bar2b = PciBars.byIndex(barsB, 2).orElseThrow().address();
                assertEquals(64, q.readl(bar0b + 0x08), "dev1 MSIX_COUNT");
                assertEquals(128, q.readl(bar0b + 0x10), "dev1 BUDGET_TOTAL");
                assertEquals(2048, q.readl(bar0a + 0x08), "dev0 MSIX_COUNT");

                // MSI-X on dev1 only: its doorbell reaches the APIC; dev0's (MSI-X off) is dropped by dev0.
                cfg.write16(d1, 0x52, cfg.read16(d1, 0x52) | 0x8000);
                q.writel(bar2b + 16 * 63, 0xfee0_0000L);
                q.writel(bar2b + 16 * 63 + 4, 0);
                q.writel(bar2b + 16 * 63 + 8, 0x9f);
                q.writel(bar2b + 16 * 63 + 12, 0);
                int mark = q.stderr().size();
                q.writel(bar0a + 0x40, 0);
                q.writel(bar0b + 0x40, 63);
                q.awaitStderr(Pattern.compile("apic_deliver_irq .* vector 159 "), mark, Duration.ofSeconds(10));
                assertEquals(1, q.readl(bar0a + 0x28), "dev0 MSIX_DROPPED");
                assertEquals(0, q.readl(bar0b + 0x28), "dev1 MSIX_DROPPED");

                Scrape s = Scrape.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                assertEquals(1, s.sum("vfu_sessions_opened_total", Map.of("device", "dev0")));
                assertEquals(1, s.sum("vfu_sessions_opened_total", Map.of("device", "dev1")));
                assertEquals(1, s.sum("vfu_interrupts_dropped_total", Map.of("device", "dev0", "index", "MSIX")));
                assertEquals(0, s.sum("vfu_interrupts_dropped_total", Map.of("device", "dev1", "index", "MSIX")));
                assertEquals(1, s.sum("vfu_interrupts_delivered_total", Map.of("device", "dev1", "index", "MSIX")));
            }

            server.destroy(); // SIGTERM
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "server exits on SIGTERM");
            assertFalse(Files.exists(s0), "socket removed: " + s0);
            assertFalse(Files.exists(s1), "socket removed: " + s1);
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void sigtermWithQemuAttachedStopsTheServerPromptlyAndRemovesTheSocket() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process server = new ProcessBuilder(java, "-XX:+UseSerialGC", "-jar", serverJar().toString(),
                "--socket", sock.toString(), "--metrics-port", "0")
                .redirectError(dir.resolve("server.stderr").toFile()).start();
        try {
            String ready = Clients.firstLine(server, Duration.ofSeconds(30));
            assertTrue(String.valueOf(ready).matches(
                    "vfu-server ready default=" + Pattern.quote(sock.toString()) + " metrics=http://127\\.0\\.0\\.1:\\d+/metrics"),
                    "ready line: " + ready);
            try (QtestSession q = QtestSession.start(QemuArgs.qtest(provisioned).vfioUserDevice(sock))) {
                assertEquals(0x0001_1b5aL, new PciConfig(q).read32(VfuRig.SLOT, 0));
                long t0 = System.nanoTime();
                server.destroy(); // SIGTERM while QEMU holds a session
                assertTrue(server.waitFor(10, TimeUnit.SECONDS), "server exits on SIGTERM with a client attached");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertFalse(Files.exists(sock), "socket removed");
                assertTrue(ms < 5000, "exit took " + ms + " ms");
            }
        } finally {
            server.destroyForcibly();
        }
    }
}
