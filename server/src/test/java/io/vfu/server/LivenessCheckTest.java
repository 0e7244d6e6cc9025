package io.vfu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.memmove.MemmoveImsDevice;
import io.vfu.server.socket.UnixSocketListener;
import io.vfu.transport.Frame;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second server started on a live socket finds out by connecting, and that check is not a session on the
 * running server: nothing is counted, opened or refused, whether the device is idle or busy.
 */
class LivenessCheckTest {

    @TempDir
    Path dir;

    private static double counter(PrometheusMeterRegistry registry, String name) {
        String line = registry.scrape().lines().filter(l -> l.startsWith(name + "{device=\"a\"}")).findFirst()
                .orElseThrow(() -> new AssertionError(name + " missing"));
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    private static VfioUserClient attach(Path socket) throws Exception {
        VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll());
        try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16}").get(5, TimeUnit.SECONDS)) {
            assertEquals(0, f.header().error());
        }
        return c;
    }

    @Test
    void anotherServersStartUpCheckIsNotASession() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path socket = dir.resolve("a.sock");
        try (VfuServer server = VfuServer.builder()
                .device("a", socket, c -> new MemmoveImsDevice(DeviceConfig.of(0x1234, 1, 8, 8, 8), c))
                .registry(registry).start()) {
            BindException idle = assertThrows(BindException.class, () -> UnixSocketListener.bind(socket));
            assertTrue(idle.getMessage().contains("EADDRINUSE"), idle.getMessage());
            // Admission is in arrival order: once this client is counted, the check before it was judged.
            try (VfioUserClient first = attach(socket)) {
                assertEquals(1.0, counter(registry, "vfu_sessions_opened_total"), "the check opened no session");
                assertThrows(BindException.class, () -> UnixSocketListener.bind(socket), "checked while busy");
            }
            awaitClosed(registry, 1.0);
            try (VfioUserClient second = attach(socket)) {
                assertEquals(2.0, counter(registry, "vfu_sessions_opened_total"));
                assertEquals(0.0, counter(registry, "vfu_sessions_refused_total"),
                        "the check on a busy device was not refused as a client either");
            }
        }
    }

    private static void awaitClosed(PrometheusMeterRegistry registry, double n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter(registry, "vfu_sessions_closed_total") < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, counter(registry, "vfu_sessions_closed_total"));
    }
}
