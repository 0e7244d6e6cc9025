package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.memmove.MemmoveImsDevice;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.server.ServerLimits;
import io.vfu.server.VfuServer;
import io.vfu.transport.Frame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
        String scrape = serveReads(ServerLimits.DEFAULT, 3_000);
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

    /** Serves device "d" with {@code limits}, reads its vendor:device {@code n} times back to back, scrapes. */
    private String serveReads(ServerLimits limits, int n) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path socket = dir.resolve("d.sock");
        try (VfuServer server = VfuServer.builder().limits(limits).registry(registry)
                .device("d", socket, c -> new MemmoveImsDevice(DeviceConfig.of(0x1234, 0x0a0a, 8, 8, 8), c))
                .start();
                VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
            try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16}").get(5, TimeUnit.SECONDS)) {
                assertEquals(0, f.header().error(), Errno.fromCode(f.header().error()) + "");
            }
            for (int i = 0; i < n; i++) {
                // REGION_READ of config space (index 7) at 0, 4 bytes: the vendor and device IDs.
                ByteBuffer read = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(7)
                        .putInt(4).flip();
                try (Frame f = c.call(Command.REGION_READ, read)) {
                    assertEquals(0x0a0a_1234L,
                            Integer.toUnsignedLong(f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(16)));
                }
            }
            return registry.scrape();
        }
    }
}
