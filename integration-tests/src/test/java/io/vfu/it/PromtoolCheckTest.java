package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.protocol.Command;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.RegionRead;
import io.vfu.server.VfuServer;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.ErrorReplyException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioned {@code promtool check metrics} (Prometheus's own linter, from the same package as the server)
 * finds nothing wrong with a scrape holding every kind of series the server exports: idle devices, a device
 * that served commands and refused one, and the JVM and process series.
 */
class PromtoolCheckTest {
    private final Provisioned provisioned = Provisioned.load();

    @TempDir
    Path dir;

    @Test
    void promtoolFindsNothingWrong() throws Exception {
        Path promtool = provisioned.prometheusBinary().resolveSibling("promtool");
        assertTrue(Files.isExecutable(promtool), promtool + " is missing: it ships with the prometheus package");
        ServerConfig config = new ServerConfig(List.of(DeviceSpec.defaultDevice("idle", dir.resolve("idle.sock")),
                DeviceSpec.defaultDevice("used", dir.resolve("used.sock"))), List.of(), null);
        try (VfuServer server = VfuServer.start(config, Optional.of(0), "127.0.0.1");
                HttpClient http = HttpClient.newHttpClient()) {
            try (VfioUserClient client = VfioUserClient.connect(dir.resolve("used.sock"), DmaHandler.refuseAll())) {
                client.version(0, 0, "{}").get().close();
                client.call(Command.REGION_READ, MessageEncoder.payload(new RegionRead.Request(0, 7, 4))).close();
                // Region 99 does not exist: an error reply, counted by errno.
                assertThrows(ErrorReplyException.class, () -> client.call(Command.REGION_READ,
                        MessageEncoder.payload(new RegionRead.Request(0, 99, 4))));
            }
            String scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.metricsPort().orElseThrow() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(scrape.contains("vfu_errors_total{device=\"used\""), scrape);
            assertTrue(scrape.contains("vfu_command_seconds_bucket{command=\"REGION_READ\",device=\"used\""), scrape);
            assertTrue(scrape.contains("jvm_memory_used_bytes"), scrape);

            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                in.write(scrape.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
            assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out);
            assertEquals("", out.strip(), "promtool check metrics:\n" + out);
        }
    }
}
