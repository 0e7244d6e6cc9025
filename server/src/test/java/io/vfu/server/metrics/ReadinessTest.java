package io.vfu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.server.VfuServer;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /readyz} on a real server: ready while every device's socket file is the one it listens on. */
class ReadinessTest {

    @TempDir
    Path dir;

    @Test
    void notReadyOnceASocketFileIsRemovedOrReplaced() throws Exception {
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        ServerConfig config = new ServerConfig(List.of(DeviceSpec.defaultDevice("a", a),
                DeviceSpec.defaultDevice("b", b)), List.of(), null);
        try (VfuServer server = VfuServer.start(config, Optional.of(0), "127.0.0.1");
                HttpClient http = HttpClient.newHttpClient()) {
            int port = server.metricsPort().orElseThrow();
            HttpResponse<String> ready = get(http, port, "/readyz");
            assertEquals(200, ready.statusCode(), ready.body());
            assertEquals("ok\n", ready.body());

            // Someone removes a socket file (a tmpfiles cleaner, a second server's start): no client can
            // reach that device any more, though the server still listens on it.
            Files.delete(b);
            HttpResponse<String> gone = get(http, port, "/readyz");
            assertEquals(503, gone.statusCode());
            assertEquals("not ready: 1\nb: " + b + " is not listening\n", gone.body());

            // A file of the same name is not the socket the server listens on.
            Files.writeString(b, "");
            assertEquals(503, get(http, port, "/readyz").statusCode());

            // Liveness does not depend on the devices.
            assertEquals(200, get(http, port, "/healthz").statusCode());
        }
    }

    @Test
    void notReadyOnceADeviceIsClosed() throws Exception {
        Path a = dir.resolve("a.sock");
        try (VfuServer server = VfuServer.start(ServerConfig.single(a), Optional.of(0), "127.0.0.1");
                HttpClient http = HttpClient.newHttpClient()) {
            int port = server.metricsPort().orElseThrow();
            assertEquals(200, get(http, port, "/readyz").statusCode());
            server.endpoints().getFirst().close();
            HttpResponse<String> r = get(http, port, "/readyz");
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains(a + " is not listening"), r.body());
        }
    }

    private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
