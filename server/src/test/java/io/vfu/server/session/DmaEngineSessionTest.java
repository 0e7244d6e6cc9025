package io.vfu.server.session;

import static io.vfu.server.session.TestDevice.BAR0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.DeviceReset;
import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.server.VfuServer;
import io.vfu.client.DmaHandler;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.OwnedFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DMA copy engine through a real session, once over message DMA (DMA_READ/DMA_WRITE to the client) and once
 * over an mmap'd memfd, as QEMU offers with and without a shared memory backend.
 */
class DmaEngineSessionTest {

    private static final long RAM = 0x100000;
    private static final int RAM_SIZE = 1 << 20;
    private static final long RING = RAM;
    private static final long SRC = RAM + 0x1000;
    private static final long DST = RAM + 0x8000;
    private static final long RECORD = RAM + 0x10000;
    private static final int LEN = 5000; // more than one page, not a multiple of anything

    @TempDir
    Path dir;
    Path socket;
    VfuServer server;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("dev.sock");
        server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Guest RAM held by the client and served through DMA_READ/DMA_WRITE. */
    static final class ClientRam implements DmaHandler {
        final byte[] bytes = new byte[RAM_SIZE];

        @Override
        public synchronized ByteBuffer read(long address, long count) {
            return ByteBuffer.wrap(bytes, (int) (address - RAM), (int) count).slice();
        }

        @Override
        public synchronized void write(long address, ByteBuffer data) {
            data.get(data.position(), bytes, (int) (address - RAM), data.remaining());
        }

        synchronized ByteBuffer view() {
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    static byte[] pattern() {
        byte[] p = new byte[LEN];
        new Random(42).nextBytes(p);
        return p;
    }

    /** Descriptor 0: copy SRC to DST, write the record, raise MSI-X vector 0 (device-model/LAYOUT.md). */
    static void descriptor(ByteBuffer ram) {
        int d = (int) (RING - RAM);
        ram.putLong(d, SRC).putLong(d + 8, DST).putInt(d + 16, LEN).putInt(d + 20, 1).putLong(d + 24, RECORD);
    }

    static void runEngine(TestDevice dev, EventFd irq) throws Exception {
        dev.enableBusMaster();
        dev.enableMsix();
        dev.assignVector(0, irq.fd().fd());
        dev.write(BAR0, 0x100, 4, RING & 0xFFFFFFFFL);
        dev.write(BAR0, 0x104, 4, RING >>> 32);
        dev.write(BAR0, 0x108, 4, 4);
        dev.write(BAR0, 0x10C, 4, 1);
        dev.write(BAR0, 0x114, 4, 1);
        assertEquals(1, irq.await(Duration.ofSeconds(10)).orElseThrow(), "completion interrupt");
        assertEquals(1, dev.read(BAR0, 0x118, 4), "DMA_COMPLETED");
        assertEquals(0, dev.read(BAR0, 0x11C, 4), "DMA_ERRORS");
    }

    @Test
    void copiesThroughMessageDma() throws Exception {
        ClientRam ram = new ClientRam();
        byte[] p = pattern();
        ram.view().put((int) (SRC - RAM), p);
        descriptor(ram.view());
        try (TestDevice dev = TestDevice.open(socket, ram); EventFd irq = EventFd.create()) {
            dev.call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, RAM, RAM_SIZE));
            runEngine(dev, irq);
        }
        ByteBuffer v = ram.view();
        byte[] out = new byte[LEN];
        v.get((int) (DST - RAM), out);
        assertArrayEquals(p, out);
        assertEquals(1, v.getInt((int) (RECORD - RAM)), "completion status success");
        assertEquals(LEN, v.getInt((int) (RECORD - RAM) + 4), "bytes copied");
        String scrape = server.registry().scrape();
        assertTrue(scrape.contains("vfu_dma_bytes_total{device=\"default\",direction=\"read\",mode=\"message\"}"),
                scrape);
    }

    /** Guest RAM in a memfd this test maps too, as QEMU shares it: the pattern at SRC and descriptor 0 in place. */
    private static final class SharedRam implements AutoCloseable {
        final byte[] pattern = pattern();
        final OwnedFd memfd;
        final Mmap local;
        final MemorySegment seg;

        SharedRam() throws Exception {
            memfd = MemFd.create("guest-ram", RAM_SIZE);
            local = Mmap.map(memfd, 0, RAM_SIZE, true);
            seg = local.segment();
            ByteBuffer ram = seg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            ram.put((int) (SRC - RAM), pattern);
            descriptor(ram);
        }

        /** Grants the server the whole RAM as one window backed by the memfd. */
        void mapInto(TestDevice dev) throws Exception {
            dev.call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, RAM, RAM_SIZE), memfd.fd());
        }

        void assertCopied() {
            byte[] out = new byte[LEN];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, DST - RAM, out, 0, LEN);
            assertArrayEquals(pattern, out);
        }

        int recordStatus() {
            return seg.get(ValueLayout.JAVA_INT_UNALIGNED, RECORD - RAM);
        }

        @Override
        public void close() {
            local.close();
            memfd.close();
        }
    }

    @Test
    void copiesThroughMmapDmaAndUnmapReleasesTheMapping() throws Exception {
        try (SharedRam ram = new SharedRam();
             TestDevice dev = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd irq = EventFd.create()) {
            long mapsBefore = mappingsOf(ram.memfd);
            ram.mapInto(dev);
            assertEquals(mapsBefore + 1, mappingsOf(ram.memfd), "the server mapped the client's memory");
            runEngine(dev, irq);
            ram.assertCopied();
            assertEquals(1, ram.recordStatus());
            dev.call(new DmaUnmap.Request(24, 0, RAM, RAM_SIZE));
            assertEquals(mapsBefore, mappingsOf(ram.memfd), "DMA_UNMAP released the mapping before replying");
            String scrape = server.registry().scrape();
            assertTrue(scrape.contains("vfu_dma_bytes_total{device=\"default\",direction=\"write\",mode=\"mmap\"}"),
                    scrape);
        }
    }

    /**
     * A short copy in memory the server mapped is done by the thread that served the doorbell, before it serves
     * anything else: no hand-over to the worker, so the reply to the DMA_TAIL write already finds it complete.
     */
    @Test
    void aShortCopyInMappedMemoryIsCompleteWhenTheDoorbellWriteIsAnswered() throws Exception {
        try (SharedRam ram = new SharedRam();
             TestDevice dev = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd irq = EventFd.create()) {
            ram.mapInto(dev);
            dev.enableBusMaster();
            dev.enableMsix();
            dev.assignVector(0, irq.fd().fd());
            startRing(dev);
            dev.write(BAR0, 0x114, 4, 1); // DMA_TAIL, answered
            assertEquals(1, ram.recordStatus(), "record written before the reply");
            ram.assertCopied();
            assertEquals(1, irq.await(Duration.ZERO).orElseThrow(), "the interrupt went out before the reply");
            assertEquals(1, dev.read(BAR0, 0x118, 4), "DMA_COMPLETED");
        }
    }

    /**
     * A guest behind an IOMMU maps its pages one DMA_MAP each, so a copy that is contiguous in IOVA space spans
     * several adjacent windows: here every page is its own window, mmap'd and by message alternately.
     */
    @Test
    void copiesAcrossAdjacentWindowsOfBothKinds() throws Exception {
        byte[] p = pattern();
        ClientRam clientRam = new ClientRam();
        try (OwnedFd memfd = MemFd.create("guest-ram", RAM_SIZE);
             Mmap local = Mmap.map(memfd, 0, RAM_SIZE, true);
             TestDevice dev = TestDevice.open(socket, clientRam);
             EventFd irq = EventFd.create()) {
            MemorySegment seg = local.segment();
            ByteBuffer ram = seg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            ram.put((int) (SRC - RAM), p);
            descriptor(ram);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, clientRam.bytes, 0, RAM_SIZE);
            for (long page = 0; page < 0x11000; page += 0x1000) {
                long flags = DmaMap.FLAG_READ | DmaMap.FLAG_WRITE;
                if ((page / 0x1000) % 2 == 0) {
                    dev.call(new DmaMap.Request(32, flags, page, RAM + page, 0x1000), memfd.fd());
                } else {
                    dev.call(new DmaMap.Request(32, flags, 0, RAM + page, 0x1000));
                }
            }
            runEngine(dev, irq);
            byte[] out = new byte[LEN];
            for (int i = 0; i < LEN; i++) {
                long at = DST - RAM + i;
                out[i] = (at / 0x1000) % 2 == 0 ? seg.get(ValueLayout.JAVA_BYTE, at) : clientRam.bytes[(int) at];
            }
            assertArrayEquals(p, out);
        }
    }

    /**
     * A client that shrinks its file after DMA_MAP makes direct DMA touch memory no file backs (SIGBUS, which
     * the JVM raises as InternalError). That descriptor completes with a read fault, is counted, and the engine
     * stays usable: the next descriptor copies, and after DEVICE_RESET the engine runs again.
     */
    @Test
    void aFileShrunkAfterDmaMapFaultsOneDescriptorAndTheEngineLivesOn() throws Exception {
        byte[] p = pattern();
        long shrunkIova = RAM + RAM_SIZE; // the shrinking file's window, right above guest RAM
        try (OwnedFd memfd = MemFd.create("guest-ram", RAM_SIZE);
             Mmap local = Mmap.map(memfd, 0, RAM_SIZE, true);
             OwnedFd shrinking = MemFd.create("shrinking", 0x2000);
             TestDevice dev = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd irq = EventFd.create()) {
            ByteBuffer ram = local.segment().asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            ram.put((int) (SRC - RAM), p);
            int d = (int) (RING - RAM);
            // Descriptor 0 reads the shrinking file; descriptor 1 copies within guest RAM.
            ram.putLong(d, shrunkIova).putLong(d + 8, DST).putInt(d + 16, 4096).putInt(d + 20, 1)
                    .putLong(d + 24, RECORD);
            ram.putLong(d + 32, SRC).putLong(d + 40, DST).putInt(d + 48, LEN).putInt(d + 52, 1)
                    .putLong(d + 56, RECORD + 16);
            long rw = DmaMap.FLAG_READ | DmaMap.FLAG_WRITE;
            dev.call(new DmaMap.Request(32, rw, 0, RAM, RAM_SIZE), memfd.fd());
            dev.call(new DmaMap.Request(32, rw, 0, shrunkIova, 0x2000), shrinking.fd());
            MemFd.truncate(shrinking, 0);

            dev.enableBusMaster();
            dev.enableMsix();
            dev.assignVector(0, irq.fd().fd());
            startRing(dev);
            dev.write(BAR0, 0x114, 4, 1);
            assertEquals(1, irq.await(Duration.ofSeconds(10)).orElseThrow(), "the faulted descriptor still interrupts");
            assertEquals(1, dev.read(BAR0, 0x118, 4), "DMA_COMPLETED");
            assertEquals(1, dev.read(BAR0, 0x11C, 4), "DMA_ERRORS");
            assertEquals(0x20, dev.read(BAR0, 0x120, 4), "DMA_LAST_STATUS: read fault");
            assertEquals(0x20, ram.getInt((int) (RECORD - RAM)), "completion record: read fault");

            dev.write(BAR0, 0x114, 4, 2);
            assertEquals(1, irq.await(Duration.ofSeconds(10)).orElseThrow(), "the engine runs the next descriptor");
            assertEquals(2, dev.read(BAR0, 0x118, 4), "DMA_COMPLETED");
            assertEquals(1, dev.read(BAR0, 0x11C, 4), "no new error");
            assertEquals(1, ram.getInt((int) (RECORD + 16 - RAM)), "completion record: success");
            byte[] out = new byte[LEN];
            ram.get((int) (DST - RAM), out);
            assertArrayEquals(p, out);

            // DEVICE_RESET leaves the engine idle and usable.
            dev.call(new DeviceReset.Request());
            ram.putInt((int) (RECORD + 16 - RAM), 0);
            ram.putLong(d, SRC).putLong(d + 8, DST).putInt(d + 16, LEN).putInt(d + 20, 1)
                    .putLong(d + 24, RECORD + 16);
            dev.enableBusMaster();
            dev.enableMsix();
            dev.assignVector(0, irq.fd().fd());
            startRing(dev);
            dev.write(BAR0, 0x114, 4, 1);
            assertEquals(1, irq.await(Duration.ofSeconds(10)).orElseThrow(), "the engine runs after reset");
            assertEquals(1, ram.getInt((int) (RECORD + 16 - RAM)), "completion record after reset: success");
            assertTrue(server.registry().scrape().contains("vfu_dma_faults_total{device=\"default\"} 1.0"),
                    "the fault is counted");
        }
    }

    /** Ring of 4 descriptors at RING, enabled (head = tail = 0). */
    private static void startRing(TestDevice dev) throws Exception {
        dev.write(BAR0, 0x100, 4, RING & 0xFFFFFFFFL);
        dev.write(BAR0, 0x104, 4, RING >>> 32);
        dev.write(BAR0, 0x108, 4, 4);
        dev.write(BAR0, 0x10C, 4, 1);
    }

    /** Mappings of this memfd in our own process (server and client share it in this test). */
    private static long mappingsOf(OwnedFd memfd) throws Exception {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + memfd.fd())).toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(target)).count();
    }
}
