package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU killed (SIGKILL) while the engine streams message DMA through it: the session ends, in-flight DMA fails
 * instead of hanging, and a QEMU started right away attaches and drives the device.
 */
class KillDuringDmaTest {
    @TempDir
    Path dir;

    @Test
    void aQemuKilledMidDmaIsReplacedAtOnce() throws Exception {
        try (VfuRig rig = VfuRig.start(dir, a -> a.memoryMib(256))) {
            QtestSession q = rig.qemu;
            int count = 128;
            int length = 256 << 10;
            byte[] data = new byte[4096];
            new Random(1).nextBytes(data);
            q.writeBytes(0x0100_0000L, data);
            for (int i = 0; i < count; i++) {
                q.writeBytes(0x0010_0000L + 32L * i, DmaEngineTest.descriptor(0x0100_0000L,
                        0x0200_0000L + (long) (i % 64) * length, length, 0, 0));
            }
            q.writel(rig.bar0 + 0x100, 0x0010_0000L);
            q.writel(rig.bar0 + 0x108, 256);
            q.writel(rig.bar0 + 0x10c, 1);
            q.writel(rig.bar0 + 0x114, count);
            DmaEngineTest.awaitRegisterAtLeast(rig, 0x118, 2);
            long done = q.readl(rig.bar0 + 0x118);
            ProcessHandle.of(q.pid()).orElseThrow().destroyForcibly();
            long t0 = System.nanoTime();

            rig.attach(a -> a); // immediately: no waiting for the server to notice
            long reattach = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(2, rig.scrape().sum("vfu_sessions_opened_total"));
            rig.assertId();
            assertTrue(done < count, "the kill came mid-ring (" + done + " of " + count + " done)");
            assertEquals(0, rig.qemu.readl(rig.bar0 + 0x10c), "the attach's reset disabled the engine");
            rig.enableMsix();
            rig.programMsix(0, 0x40);
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x40, 0);
            assertEquals(0x40, rig.awaitVector(mark));
            assertTrue(reattach < 10_000, "re-attach took " + reattach + " ms");
        }
    }
}
