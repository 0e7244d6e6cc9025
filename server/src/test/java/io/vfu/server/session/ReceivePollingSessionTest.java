package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.client.VfioUserClient;
import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.memmove.MemmoveImsDevice;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.server.ServerLimits;
import io.vfu.server.VfuServer;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session with polling on, end to end over a real socket: every answer right, and the polling shows. */
class ReceivePollingSessionTest {

    private static final Pattern HITS = Pattern.compile(
            "vfu_receive_polls_total\\{device=\"d\",result=\"hit\"} ([0-9.E]+)");

    @TempDir
    Path dir;

    @Test
    void byDefaultABusyClientIsServedWhileTheSessionPollsAndTheMetricsShowTheWakeUpsSaved() throws Exception {
        String scrape = serveReads(ServerLimits.DEFAULT, 20_000);
        Matcher m = HITS.matcher(scrape);
        assertTrue(m.find(), scrape);
        assertTrue(Double.parseDouble(m.group(1)) > 0, "back-to-back reads came while the session polled");
        assertTrue(scrape.contains("vfu_receive_polls_total{device=\"d\",result=\"miss\"}"));
        assertTrue(scrape.contains("vfu_receive_poll_seconds_total{device=\"d\"}"));
    }

    @Test
    void withPollingOffThereIsNoPollingSeries() throws Exception {
        String scrape = serveReads(ServerLimits.DEFAULT.withPollMax(Duration.ZERO), 100);
        assertFalse(scrape.contains("vfu_receive_poll"), "polling off: nothing to export");
    }

    /**
     * Serves device "d" with {@code limits}, reads its vendor:device {@code n} times back to back with a
     * synchronous client (send, then read the reply on the same thread, as QEMU's vCPU thread waits for a
     * trapped read), and scrapes.
     */
    private String serveReads(ServerLimits limits, int n) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path socket = dir.resolve("d.sock");
        try (VfuServer server = VfuServer.builder().limits(limits).registry(registry)
                .device("d", socket, c -> new MemmoveImsDevice(DeviceConfig.of(0x1234, 0x0a0a, 8, 8, 8), c))
                .start();
                UnixSocketTransport t = UnixSocketTransport.connect(socket, TransportLimits.DEFAULT)) {
            ByteBuffer version = VfioUserClient.versionPayload(0, 0, "{\"capabilities\":{\"max_msg_fds\":16}}");
            t.send(new Header(1, Command.VERSION.code(), Header.SIZE + (long) version.remaining(),
                    Header.TYPE_COMMAND, 0), version);
            try (Frame f = t.receive()) {
                assertEquals(0, f.header().error(), Errno.fromCode(f.header().error()) + "");
            }
            for (int i = 0; i < n; i++) {
                // REGION_READ of config space (index 7) at 0, 4 bytes: the vendor and device IDs.
                ByteBuffer read = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(7)
                        .putInt(4).flip();
                t.send(new Header(2 + (i & 0x3FFF), Command.REGION_READ.code(), Header.SIZE + 16L,
                        Header.TYPE_COMMAND, 0), read);
                try (Frame f = t.receive()) {
                    assertEquals(0x0a0a_1234L,
                            Integer.toUnsignedLong(f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(16)));
                }
            }
            return registry.scrape();
        }
    }
}
