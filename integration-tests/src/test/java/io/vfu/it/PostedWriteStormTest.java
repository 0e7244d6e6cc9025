package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.client.Await;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * More IMS interrupts than there are 16-bit message ids: every one becomes a DMA_WRITE request from the server
 * to QEMU, so the server's msg_id wraps around (spec "Header": the sender picks msg_id). QEMU delivers every one
 * as an MSI, and the server matches every reply.
 */
class PostedWriteStormTest {
    private static final int FIRES = 70_000;

    @TempDir
    Path dir;

    @Test
    void seventyThousandImsInterruptsWrapTheMessageIdAndAllArrive() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            rig.programIms(5, 0x55, false);
            // The entry writes are posted: a synchronous read makes sure the unmask has reached the device
            // before the test fires through the in-process API, which bypasses the socket's ordering.
            rig.sync();
            ByteBuffer doorbell = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 5);
            var host = rig.server.endpoints().getFirst().host();
            int before = rig.mark();
            for (int i = 0; i < FIRES; i++) {
                // The device's own region path (what a BAR0 write from QEMU runs), without a qtest round trip.
                host.onDevice(d -> d.write(0, 0x44, doorbell.duplicate()));
            }
            Await.until(Duration.ofSeconds(60), () -> deliveries(rig, before) == FIRES,
                    () -> FIRES + " APIC deliveries of vector 0x55, got " + deliveries(rig, before));
            assertEquals(FIRES, rig.qemu.readl(rig.bar0 + 0x4000 + 4 * 5), "IMS_DELIVERED[5]");
            Scrape s = rig.scrape();
            Map<String, String> ims = Map.of("index", "IMS");
            assertEquals(FIRES, s.sum("vfu_interrupts_signalled_total", ims));
            assertEquals(FIRES, s.sum("vfu_interrupts_delivered_total", ims));
            assertEquals(0, s.sum("vfu_interrupts_latched_total", ims), "never masked, never latched");
            assertEquals(0, s.sum("vfu_errors_total"), s.text());
        }
    }

    /** APIC deliveries of vector 0x55 QEMU logged since stderr line {@code from}. */
    private static long deliveries(VfuRig rig, int from) {
        return rig.vectorsSince(from).stream().filter(v -> v == 0x55).count();
    }
}
