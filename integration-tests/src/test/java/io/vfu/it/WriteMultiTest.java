package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU 11 batches queued posted writes into REGION_WRITE_MULTI when the server offers {@code write_multiple}
 * (with {@code x-send-queued}, writes queue up behind the socket). Every write of a batch must land, in order.
 */
class WriteMultiTest {
    @TempDir
    Path dir;

    @Test
    void postedWritesBatchedIntoWriteMultiAllLandInOrder() throws InterruptedException {
        try (VfuRig rig = VfuRig.server(ServerConfig.single(dir.resolve("vfu.sock")))) {
            rig.attach(a -> QemuArgs.qtest(rig.provisioned)
                    .vfioUserDevice(rig.socket, Map.of("x-send-queued", true)));
            // The server is held busy (a thread owns the device lock) while the guest posts writes, so they back
            // up in the socket and in QEMU's send queue, which QEMU then drains as REGION_WRITE_MULTI batches.
            int written = 0;
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofPlatform().start(() -> rig.server.endpoints().getFirst().host().withDevice(d -> {
                held.countDown();
                try {
                    return release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return false;
                }
            }));
            try {
                held.await();
                for (; written < 12_000; written++) {
                    rig.qemu.writel(rig.bar0 + 0x80 + 4 * (written % 32), written);
                }
            } finally {
                release.countDown();
            }
            holder.join();
            rig.sync();
            Scrape s = rig.scrape();
            assertTrue(s.commands("REGION_WRITE_MULTI") > 0, "QEMU never batched " + written + " posted writes");
            assertEquals(0, s.sum("vfu_errors_total"), s.text());
            for (int r = 0; r < 32; r++) {
                int last = written - 32 + Math.floorMod(r - written, 32);
                assertEquals(last, rig.qemu.readl(rig.bar0 + 0x80 + 4 * r), "SCRATCH[" + r + "]");
            }
        }
    }
}
