package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.server.config.ServerConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device's DMA copy engine under QEMU 11: a ring, descriptors and completion records in guest RAM, set up
 * with qtest writes. With a shared memfd backend QEMU passes fds in DMA_MAP and the server copies through its
 * own mmap; without, every access is a DMA_READ / DMA_WRITE message to QEMU.
 */
class DmaEngineTest {
    private static final long RING = 0x0010_0000L;
    private static final long RECORDS = 0x0010_1000L;
    private static final long SRC = 0x0020_0ff0L;   // crosses page boundaries on purpose
    private static final long DST = 0x0040_0007L;
    private static final int LENGTH = 3 * 4096 + 123;
    private static final int RING_SIZE = 8;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void copiesGuestMemoryThroughMmapWithASharedMemfdBackend() throws Exception {
        List<String> mappedBefore = Clients.clientMemfdMappings();
        try (VfuRig rig = VfuRig.start(dir, a -> a.sharedMemory().memoryMib(512))) {
            assertTrue(Clients.clientMemfdMappings().size() > mappedBefore.size(), "guest RAM is mapped");
            runCopies(rig);
            Scrape s = rig.scrape();
            assertTrue(s.sum("vfu_dma_bytes_total", Map.of("mode", "mmap", "direction", "read")) >= 2 * LENGTH,
                    s.text());
            assertTrue(s.sum("vfu_dma_bytes_total", Map.of("mode", "mmap", "direction", "write")) >= 2 * LENGTH);
            assertEquals(0, s.sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "read")),
                    "nothing read by message");
            assertEquals(4, s.sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "write")),
                    "only the IMS interrupt (a 4-byte posted write to the APIC, outside RAM) goes by message");

            // QEMU goes away: the session's mappings of guest RAM are released with it.
            rig.qemu.close();
            Await.until(WAIT, () -> rig.scrape().sum("vfu_sessions_closed_total") == 1,
                    () -> "vfu_sessions_closed_total 1, is " + rig.scrape().sum("vfu_sessions_closed_total"));
            assertEquals(mappedBefore, Clients.clientMemfdMappings(), "no mapping of guest RAM left");

            // A new QEMU brings new memfds; the next session maps them and copies again.
            rig.attach(a -> a.sharedMemory().memoryMib(512));
            runCopies(rig);
            assertEquals(0, rig.scrape().sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "read")));
        }
    }

    @Test
    void copiesGuestMemoryThroughDmaMessagesWithoutSharedMemory() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            runCopies(rig);
            Scrape s = rig.scrape();
            assertTrue(s.sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "read")) >= 2 * LENGTH,
                    s.text());
            assertTrue(s.sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "write")) >= 2 * LENGTH);
            assertEquals(0, s.sum("vfu_dma_bytes_total", Map.of("mode", "mmap")), "QEMU passed no fds to mmap");
        }
    }

    /**
     * With {@code x-no-posted-writes} every BAR write waits for its reply, including the tail doorbell that
     * starts message DMA: the server answers it without waiting for the DMA_READs the engine then sends.
     */
    @Test
    void copiesThroughDmaMessagesWhenEveryRegionWriteIsSynchronous() {
        try (VfuRig rig = VfuRig.server(ServerConfig.single(dir.resolve("vfu.sock")))) {
            rig.attach(a -> QemuArgs.qtest(rig.provisioned).trace("apic_deliver_irq")
                    .vfioUserDevice(rig.socket, Map.of("x-no-posted-writes", true, "x-msg-timeout", 2000)));
            runCopies(rig);
            assertTrue(rig.qemu.stderr().lines().stream().noneMatch(l -> l.contains("timed out")),
                    rig.qemu.stderr().tail(20));
        }
    }

    /**
     * The deadlock trap of the notes: QEMU holds its main loop while it waits for the reply to a synchronous
     * REGION_READ, so a server that waited for its own DMA_READ before answering would stall QEMU for
     * {@code x-msg-timeout}. Here the engine streams message DMA while the test keeps QEMU busy with
     * synchronous BAR reads; every read must come back promptly and every copy must be right.
     */
    @Test
    void messageDmaAndSynchronousGuestReadsNeverWaitForEachOther() {
        int count = 64;
        int length = 128 << 10;
        long src = 0x0100_0000L;
        long dst = 0x0200_0000L;
        try (VfuRig rig = VfuRig.start(dir, a -> a.memoryMib(256))) {
            QtestSession q = rig.qemu;
            byte[] data = new byte[length];
            new Random(7).nextBytes(data);
            q.writeBytes(src, data);
            for (int i = 0; i < count; i++) {
                q.writeBytes(RING + 32L * i, descriptor(src, dst + (long) i * length, length, 0, RECORDS + 8L * i));
            }
            q.writel(rig.bar0 + 0x100, RING);
            q.writel(rig.bar0 + 0x104, 0);
            q.writel(rig.bar0 + 0x108, 128);
            q.writel(rig.bar0 + 0x10c, 1);
            q.writel(rig.bar0 + 0x114, count);

            long worst = 0;
            int reads = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (q.readl(rig.bar0 + 0x118) != count && System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                rig.cfg.read16(VfuRig.SLOT, PciConfig.COMMAND);
                worst = Math.max(worst, System.nanoTime() - t0);
                reads++;
            }
            // 8 MiB by message takes long enough for many reads (about 200 on a loaded 2-core machine).
            assertTrue(reads > 0, "no read overlapped the DMA");
            assertEquals(count, q.readl(rig.bar0 + 0x118), "DMA_COMPLETED");
            assertEquals(0, q.readl(rig.bar0 + 0x11c), "DMA_ERRORS");
            assertTrue(worst < Duration.ofSeconds(1).toNanos(), "slowest of " + reads + " synchronous reads during"
                    + " message DMA took " + worst / 1_000_000 + " ms (QEMU's timeout is 5 s)");
            for (int i = 0; i < count; i++) {
                assertEquals(1, q.readl(RECORDS + 8L * i), "record " + i + " status");
                assertEquals(length, q.readl(RECORDS + 8L * i + 4), "record " + i + " bytes");
            }
            assertArrayEquals(data, q.readBytes(dst, length), "first copy");
            assertArrayEquals(data, q.readBytes(dst + (long) (count - 1) * length, length), "last copy");
            assertTrue(q.stderr().lines().stream().noneMatch(l -> l.contains("timed out")), q.stderr().tail(20));
            Scrape s = rig.scrape();
            assertTrue(s.sum("vfu_dma_bytes_total", Map.of("mode", "message", "direction", "write"))
                    >= (double) count * length, s.text());
        }
    }

    @Test
    void aFaultingDescriptorIsReportedAndTheRingGoesOnWithMmapDma() {
        try (VfuRig rig = VfuRig.start(dir, a -> a.sharedMemory().memoryMib(512))) {
            faultThenCopy(rig);
        }
    }

    @Test
    void aFaultingDescriptorIsReportedAndTheRingGoesOnWithMessageDma() {
        try (VfuRig rig = VfuRig.start(dir, a -> a)) {
            faultThenCopy(rig);
        }
    }

    /**
     * Descriptor 0 reads from 64 GiB (no RAM, no DMA map there), descriptor 1 writes past the end of the
     * ring's memory into the same hole, descriptor 2 is good: faults are a status, never a crash or a stall.
     */
    private static void faultThenCopy(VfuRig rig) {
        QtestSession q = rig.qemu;
        long hole = 0x10_0000_0000L;
        byte[] data = new byte[256];
        new Random(3).nextBytes(data);
        q.writeBytes(SRC, data);
        q.writeBytes(RECORDS, new byte[24]);
        q.writeBytes(RING, descriptor(hole, DST, 256, 0, RECORDS));
        q.writeBytes(RING + 32, descriptor(SRC, hole, 256, 0, RECORDS + 8));
        q.writeBytes(RING + 64, descriptor(SRC, DST, 256, 0, RECORDS + 16));
        q.writel(rig.bar0 + 0x100, RING);
        q.writel(rig.bar0 + 0x108, RING_SIZE);
        q.writel(rig.bar0 + 0x10c, 1);
        q.writel(rig.bar0 + 0x114, 3);
        awaitRegister(rig, 0x118, 3, "DMA_COMPLETED");
        assertEquals(0x20, q.readl(RECORDS), "read fault");
        assertEquals(0x21, q.readl(RECORDS + 8), "write fault");
        assertEquals(1, q.readl(RECORDS + 16), "the good descriptor after them succeeds");
        assertEquals(256, q.readl(RECORDS + 20));
        assertArrayEquals(data, q.readBytes(DST, 256));
        assertEquals(2, q.readl(rig.bar0 + 0x11c), "DMA_ERRORS");
        assertEquals(3, q.readl(rig.bar0 + 0x110), "DMA_HEAD moved past every descriptor");
        int status = rig.cfg.read16(VfuRig.SLOT, PciConfig.STATUS);
        assertEquals(1 << 13, status & (1 << 13), "Status.Received Master Abort");
        rig.cfg.write16(VfuRig.SLOT, PciConfig.STATUS, 1 << 13);
        assertEquals(0, rig.cfg.read16(VfuRig.SLOT, PciConfig.STATUS) & (1 << 13), "write 1 clears it");
        rig.assertId();
    }

    /** Two descriptors: the first raises MSI-X vector 3, the second IMS entry 12; both copy and complete. */
    private static void runCopies(VfuRig rig) {
        QtestSession q = rig.qemu;
        byte[] data = new byte[LENGTH];
        new Random(42).nextBytes(data);
        q.writeBytes(SRC, data);
        q.writeBytes(DST, new byte[LENGTH]);
        q.writeBytes(DST + 0x10_0000, new byte[LENGTH]);
        q.write(RECORDS, 8, 0);
        q.write(RECORDS + 8, 8, 0);

        rig.enableMsix();
        rig.programMsix(3, 0x73);
        rig.programIms(12, 0x74, false);

        q.writeBytes(RING, descriptor(SRC, DST, LENGTH, 1 | (3 << 16), RECORDS));
        q.writeBytes(RING + 32, descriptor(SRC, DST + 0x10_0000, LENGTH, 2 | (12 << 16), RECORDS + 8));
        q.writel(rig.bar0 + 0x100, RING);
        q.writel(rig.bar0 + 0x104, 0);
        q.writel(rig.bar0 + 0x108, RING_SIZE);
        q.writel(rig.bar0 + 0x10c, 1);
        assertEquals(0, q.readl(rig.bar0 + 0x20), "ring accepted, no ERROR_CODE");

        int mark = rig.mark();
        q.writel(rig.bar0 + 0x114, 1);
        assertEquals(0x73, rig.awaitVector(mark), "completion of descriptor 0 raises MSI-X vector 3");
        mark = rig.mark();
        q.writel(rig.bar0 + 0x114, 2);
        assertEquals(0x74, rig.awaitVector(mark), "completion of descriptor 1 raises IMS entry 12");

        // The record is written before the interrupt, so it is visible now.
        assertEquals(1, q.readl(RECORDS), "status success");
        assertEquals(LENGTH, q.readl(RECORDS + 4), "bytes copied");
        assertEquals(1, q.readl(RECORDS + 8));
        assertEquals(LENGTH, q.readl(RECORDS + 12));
        assertArrayEquals(data, q.readBytes(DST, LENGTH));
        assertArrayEquals(data, q.readBytes(DST + 0x10_0000, LENGTH));
        assertEquals(0, q.readBytes(DST - 1, 1)[0], "nothing written before the destination");
        assertEquals(0, q.readBytes(DST + LENGTH, 1)[0], "nothing written past the destination");
        awaitRegister(rig, 0x118, 2, "DMA_COMPLETED");
        assertEquals(2, q.readl(rig.bar0 + 0x110), "DMA_HEAD");
        assertEquals(0, q.readl(rig.bar0 + 0x11c), "DMA_ERRORS");
        assertEquals(1, q.readl(rig.bar0 + 0x120), "DMA_LAST_STATUS");
    }

    /** A descriptor as LAYOUT.md "DMA copy engine" lays it out (32 bytes, little-endian). */
    static byte[] descriptor(long src, long dst, int length, int flags, long record) {
        return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(src).putLong(dst).putInt(length).putInt(flags).putLong(record).array();
    }

    /**
     * Spins (no sleep) until the register reaches {@code atLeast}: a caller that acts mid-DMA, such as killing
     * QEMU with the ring half done, must act as soon as it does, not up to one {@code Await} poll later.
     */
    static void awaitRegisterAtLeast(VfuRig rig, int offset, long atLeast) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long v;
        while ((v = rig.qemu.readl(rig.bar0 + offset)) < atLeast && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(v >= atLeast, "register 0x" + Integer.toHexString(offset) + " = " + v + " < " + atLeast);
    }

    static void awaitRegister(VfuRig rig, int offset, long expected, String name) {
        try {
            Await.until(Duration.ofSeconds(10), () -> rig.qemu.readl(rig.bar0 + offset) == expected,
                    () -> name + " " + expected + ", is " + rig.qemu.readl(rig.bar0 + offset));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + name, e);
        }
    }
}
