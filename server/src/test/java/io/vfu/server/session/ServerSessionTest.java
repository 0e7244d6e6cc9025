package io.vfu.server.session;

import static io.vfu.server.session.TestDevice.BAR0;
import static io.vfu.server.session.TestDevice.BAR2;
import static io.vfu.server.session.TestDevice.BAR4;
import static io.vfu.server.session.TestDevice.CONFIG;
import static io.vfu.server.session.TestDevice.MSIX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.Command;
import io.vfu.protocol.DeviceFeature;
import io.vfu.protocol.DeviceGetInfo;
import io.vfu.protocol.DeviceGetIrqInfo;
import io.vfu.protocol.DeviceGetRegionInfo;
import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaRead;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Errno;
import io.vfu.protocol.RegionWriteMulti;
import io.vfu.protocol.FeatureData;
import io.vfu.protocol.RegionRead;
import io.vfu.server.VfuServer;
import io.vfu.client.Await;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.Fds;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server end to end over a real Unix socket, driven by our Java client as QEMU would drive it. */
class ServerSessionTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    Path socket;
    VfuServer server;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("dev0.sock");
        server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static long errno(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(ErrorReplyException.class, e).errno();
    }

    @Test
    void socketIsPrivateAndRemovedOnClose() throws Exception {
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket)));
        server.close();
        assertFalse(Files.exists(socket));
    }

    @Test
    void versionReplyFitsWhatQemuAccepts() throws Exception {
        try (VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll());
             Frame f = c.version(0, 0, TestDevice.QEMU_CAPS).get(5, TimeUnit.SECONDS)) {
            assertTrue(f.header().isReply());
            assertFalse(f.header().isError());
            byte[] p = f.payloadBytes();
            assertEquals(0, p[p.length - 1], "JSON must be NUL-terminated");
            String json = new String(p, 4, p.length - 5, java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(json.contains("\"max_msg_fds\":16"), json);
            assertTrue(json.contains("\"max_data_xfer_size\":1048576"), json);
            assertTrue(json.contains("\"write_multiple\":true"), json);
            assertFalse(json.contains("migration"), "migration is not offered: " + json);
        }
    }

    @Test
    void commandsBeforeVersionAreRefused() throws Exception {
        try (VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
            assertEquals(Errno.EINVAL.code(), errno(() -> c.call(Command.DEVICE_GET_INFO,
                    TestDevice.payload(new DeviceGetInfo.Request(16)))));
        }
    }

    @Test
    void deviceRegionAndIrqInfoDescribeTheDefaultDevice() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            DeviceGetInfo.Reply info = (DeviceGetInfo.Reply) d.call(new DeviceGetInfo.Request(16));
            assertEquals(DeviceGetInfo.FLAG_RESET | DeviceGetInfo.FLAG_PCI, info.flags());
            assertEquals(9, info.numRegions());
            assertEquals(5, info.numIrqs());
            DeviceGetRegionInfo.Reply bar0 = (DeviceGetRegionInfo.Reply) d.call(new DeviceGetRegionInfo.Request(32, 0));
            assertEquals(0x8000, bar0.size());
            assertEquals(DeviceGetRegionInfo.FLAG_READ | DeviceGetRegionInfo.FLAG_WRITE, bar0.flags());
            DeviceGetRegionInfo.Reply cfg = (DeviceGetRegionInfo.Reply) d.call(new DeviceGetRegionInfo.Request(32, 7));
            assertEquals(4096, cfg.size());
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DeviceGetRegionInfo.Request(32, 9))));
            DeviceGetIrqInfo.Reply msix = (DeviceGetIrqInfo.Reply) d.call(new DeviceGetIrqInfo.Request(16, MSIX));
            assertEquals(2048, msix.count());
            assertEquals(DeviceGetIrqInfo.FLAG_EVENTFD | DeviceGetIrqInfo.FLAG_MASKABLE, msix.flags(),
                    "MSI-X must not report NORESIZE");
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DeviceGetIrqInfo.Request(16, 5))));
        }
    }

    @Test
    void configSpaceAndScratchRegisters() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            assertEquals(0x0001_1B5AL, d.read(CONFIG, 0, 4));
            assertEquals(0x31554656L, d.read(BAR0, 0, 4), "BAR0 ID register reads VFU1");
            d.write(BAR0, 0x80, 4, 0xDEADBEEFL);
            d.post(BAR0, 0x84, 4, 0x12345678L);
            assertEquals(0xDEADBEEFL, d.read(BAR0, 0x80, 4));
            assertEquals(0x12345678L, d.read(BAR0, 0x84, 4), "a read after a posted write sees it");
            assertEquals(Errno.EINVAL.code(), errno(() -> d.read(BAR0, 0x8000 - 2, 4)));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new RegionRead.Request(-4L, 0, 4))));
        }
    }

    @Test
    void msixVectorsAreAppendedOneAtATimeAndDelivered() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd e0 = EventFd.create(); EventFd e5 = EventFd.create()) {
            d.enableMsix();
            d.assignVector(0, e0.fd().fd());
            d.write(BAR0, 0x40, 4, 0);
            assertEquals(1, e0.await(WAIT).orElseThrow());
            d.assignVector(5, e5.fd().fd());
            d.write(BAR0, 0x40, 4, 5);
            d.write(BAR0, 0x40, 4, 0);
            assertEquals(1, e5.await(WAIT).orElseThrow());
            assertEquals(1, e0.await(WAIT).orElseThrow(), "appending vector 5 left vector 0 working");
            assertEquals(2, d.read(BAR0, 0x2000, 4), "device counted two deliveries of vector 0");
            String scrape = server.registry().scrape();
            assertFalse(scrape.contains("vfu_irq_index_disables_total{device=\"default\",index=\"MSIX\"}"), scrape);
            assertTrue(scrape.contains("vfu_set_irqs_total{action=\"TRIGGER\",device=\"default\",index=\"MSIX\"} 2"),
                    scrape);
        }
    }

    @Test
    void aSignalBeforeItsVectorHasATargetIsLatchedAndDeliveredOnAppend() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll()); EventFd e3 = EventFd.create()) {
            d.enableMsix();
            d.write(BAR0, 0x40, 4, 3);
            assertEquals(1L << 3, d.read(BAR2, 0x8000, 8), "PBA bit 3 is set while vector 3 has no target");
            d.assignVector(3, e3.fd().fd());
            assertEquals(1, e3.await(WAIT).orElseThrow());
            assertEquals(0, d.read(BAR2, 0x8000, 8), "pending bit cleared on delivery");
            String scrape = server.registry().scrape();
            assertTrue(scrape.contains("vfu_interrupts_latched_total{device=\"default\",index=\"MSIX\"} 1.0"), scrape);
            assertTrue(scrape.contains(
                    "vfu_interrupts_delivered_on_unmask_total{device=\"default\",index=\"MSIX\"} 1.0"), scrape);
            assertTrue(scrape.contains("vfu_interrupts_signalled_total{device=\"default\",index=\"MSIX\"} 1.0"), scrape);
            assertTrue(scrape.contains("vfu_msix_vectors_assigned{device=\"default\"} 1.0"), scrape);
        }
    }

    @Test
    void budgetExhaustionIsEnospcAndVisibleToTheGuest() throws Exception {
        server.close();
        server = VfuServer.start(ServerConfig.parse("test", """
                {"devices": [{"name": "small", "socket": "%s", "msixVectors": 8, "imsEntries": 8, "vectorBudget": 2}]}
                """.formatted(socket)), Optional.empty(), "127.0.0.1");
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd a = EventFd.create(); EventFd b = EventFd.create(); EventFd c = EventFd.create()) {
            d.enableMsix();
            d.assignVector(0, a.fd().fd());
            d.assignVector(1, b.fd().fd());
            assertEquals(Errno.ENOSPC.code(), errno(() -> d.assignVector(2, c.fd().fd())));
            assertEquals(1, d.read(BAR0, 0x20, 4), "ERROR_CODE 1 = budget exhausted");
            assertEquals(1, d.read(BAR0, 0x18, 4), "BUDGET_EXHAUSTED counter");
            d.write(BAR0, 0x40, 4, 1);
            assertEquals(1, b.await(WAIT).orElseThrow(), "existing vectors keep working");
            String scrape = server.registry().scrape();
            assertTrue(scrape.contains("vfu_errors_total{device=\"small\",errno=\"ENOSPC\"} 1"), scrape);
            assertTrue(scrape.contains("vfu_vector_budget_exhausted_total{device=\"small\",kind=\"MSIX\"} 1.0"),
                    scrape);
        }
    }

    @Test
    void anImsEntryDeliversAsAPostedWriteToTheClient() throws Exception {
        CompletableFuture<long[]> posted = new CompletableFuture<>();
        DmaHandler dma = new DmaHandler() {
            @Override
            public ByteBuffer read(long address, long count) {
                throw new AssertionError("no reads expected");
            }

            @Override
            public void write(long address, ByteBuffer data) {
                posted.complete(new long[] {address, data.remaining(), Integer.toUnsignedLong(
                        data.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(data.position()))});
            }
        };
        try (TestDevice d = TestDevice.open(socket, dma)) {
            d.enableBusMaster();
            d.write(BAR4, 16 * 7, 4, 0xFEE0_1000L);
            d.write(BAR4, 16 * 7 + 4, 4, 0);
            d.write(BAR4, 16 * 7 + 8, 4, 0x41);
            d.write(BAR4, 16 * 7 + 12, 4, 0); // unmask: takes a budget unit
            d.write(BAR0, 0x44, 4, 7);
            long[] w = posted.get(5, TimeUnit.SECONDS);
            assertEquals(0xFEE0_1000L, w[0]);
            assertEquals(4, w[1]);
            assertEquals(0x41, w[2]);
        }
    }

    @Test
    void writeMultiRunsItsWritesInOrderAndStopsAtTheFirstRefused() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            RegionWriteMulti.Reply ok = (RegionWriteMulti.Reply) d.call(new RegionWriteMulti.Request(List.of(
                    new RegionWriteMulti.Write(0x90, BAR0, TestDevice.le(4, 0xA1A2A3A4L)),
                    new RegionWriteMulti.Write(0x94, BAR0, TestDevice.le(1, 0x5A)),
                    new RegionWriteMulti.Write(0x90, BAR0, TestDevice.le(2, 0xB1B2)))));
            assertEquals(3, ok.wrCnt());
            assertEquals(0xA1A2B1B2L, d.read(BAR0, 0x90, 4), "later writes land over earlier ones, in order");
            assertEquals(0x5A, d.read(BAR0, 0x94, 1));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new RegionWriteMulti.Request(List.of(
                    new RegionWriteMulti.Write(0x98, BAR0, TestDevice.le(4, 0x77)),
                    new RegionWriteMulti.Write(0, 9, TestDevice.le(4, 1)),
                    new RegionWriteMulti.Write(0x9C, BAR0, TestDevice.le(4, 0x88)))))));
            assertEquals(0x77, d.read(BAR0, 0x98, 4), "the write before the refused one is done");
            assertEquals(0, d.read(BAR0, 0x9C, 4), "the write after it is not");
        }
    }

    @Test
    void aPostedWriteTheClientCannotCarryOutIsCountedNotLost() throws Exception {
        // The client refuses every DMA_WRITE with EFAULT; a posted one (No_reply) is answered with an error
        // reply, as QEMU answers a failed pci_dma_write.
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            d.enableBusMaster();
            d.write(BAR4, 16 * 2, 4, 0xFEE0_2000L);
            d.write(BAR4, 16 * 2 + 8, 4, 0x42);
            d.write(BAR4, 16 * 2 + 12, 4, 0);
            d.post(BAR0, 0x44, 4, 2);
            d.post(BAR0, 0x44, 4, 2);
            String want = "vfu_posted_writes_failed_total{device=\"default\",errno=\"EFAULT\"} 2.0";
            Await.until(WAIT, () -> server.registry().scrape().contains(want),
                    () -> want + " in the scrape:\n" + server.registry().scrape());
            assertEquals(0x31554656L, d.read(BAR0, 0, 4), "the session goes on");
        }
    }

    @Test
    void clientSentServerCommandsUnknownCommandsAndFeaturesGetTheRightErrno() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaRead.Request(0, 4))));
            assertEquals(Errno.ENOTTY.code(), errno(() -> d.call(new DeviceFeature.Request(8,
                    DeviceFeature.PROBE | DeviceFeature.GET | DeviceFeature.MIGRATION, new FeatureData.None()))));
            for (int unknown : new int[] {0, 14, 19, 99, 0xFFFF}) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> d.client.connection()
                        .request(unknown, ByteBuffer.allocate(3), Duration.ofSeconds(5)).get());
                assertEquals(Errno.ENOSYS.code(), ((ErrorReplyException) e.getCause()).errno(), "command " + unknown);
            }
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32, 3, 0, 0x1000, 0))));
            assertEquals(0x31554656L, d.read(BAR0, 0, 4), "the session survives every refusal");
        }
    }

    @Test
    void aSecondClientIsRefusedAndTheNextOneSeesTheDeviceState() throws Exception {
        try (TestDevice first = TestDevice.open(socket, DmaHandler.refuseAll())) {
            first.write(BAR0, 0x88, 4, 0xCAFE);
            try (VfioUserClient second = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> second.version(0, 0, TestDevice.QEMU_CAPS).get(5, TimeUnit.SECONDS));
                assertEquals(Errno.EBUSY.code(), ((ErrorReplyException) e.getCause()).errno());
            }
            assertEquals(0xCAFE, first.read(BAR0, 0x88, 4), "the first session is undisturbed");
        }
        awaitIdle();
        try (TestDevice next = TestDevice.open(socket, DmaHandler.refuseAll())) {
            assertEquals(0xCAFE, next.read(BAR0, 0x88, 4), "device state survives the disconnect");
        }
    }

    @Test
    void aClientReconnectingAtOnceIsServedNotRefused() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
                d.write(BAR0, 0x90, 4, i);
            }
            // No waiting: a restarted QEMU reconnects while the server may still be reading the old end of stream.
        }
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            assertEquals(19, d.read(BAR0, 0x90, 4));
        }
    }

    @Test
    void indexDisableIsCountedSoAppendRegressionsShow() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll()); EventFd e = EventFd.create()) {
            d.enableMsix();
            d.assignVector(0, e.fd().fd());
            d.call(DeviceSetIrqs.Request.of(DeviceSetIrqs.DATA_NONE | DeviceSetIrqs.ACTION_TRIGGER, MSIX, 0, 0));
            assertTrue(server.registry().scrape()
                    .contains("vfu_irq_index_disables_total{device=\"default\",index=\"MSIX\"} 1"));
        }
    }

    @Test
    void aDmaMapLargerThanItsFileOrAtAHugeOffsetIsEinvalNotACrash() throws Exception {
        try (io.vfu.transport.nativeio.OwnedFd small = io.vfu.transport.nativeio.MemFd.create("small", 4096);
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            // Touching a mapping past the end of its file raises SIGBUS: the window must be refused up front.
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32,
                    DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, 0x100000, 0x200000), small.fd())));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32,
                    DmaMap.FLAG_READ, 0x8000_0000_0000_0000L, 0x100000, 4096), small.fd())));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32,
                    DmaMap.FLAG_READ, 4096, 0x100000, 4096), small.fd())));
            d.call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, 0x100000, 4096), small.fd());
            assertEquals(0x31554656L, d.read(BAR0, 0, 4));
        }
    }

    @Test
    void aVersionWithANonsenseCapabilityIsEinvalAndTheClientMayProposeAgain() throws Exception {
        try (VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
            // A max_data_xfer_size of 0 would leave a session that answers every access E2BIG.
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.version(0, 0,
                    TestDevice.QEMU_CAPS.replace("\"max_data_xfer_size\":1048576", "\"max_data_xfer_size\":0"))
                    .get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EINVAL.code(), ((ErrorReplyException) e.getCause()).errno());
            // Without the 4 KiB page size there is no DMA page both sides map.
            e = assertThrows(ExecutionException.class, () -> c.version(0, 0,
                    TestDevice.QEMU_CAPS.replace("\"pgsizes\":4096", "\"pgsizes\":8192")).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EINVAL.code(), ((ErrorReplyException) e.getCause()).errno());
            try (Frame f = c.version(0, 0, TestDevice.QEMU_CAPS).get(5, TimeUnit.SECONDS)) {
                assertFalse(f.header().isError(), "QEMU 11's own proposal is served after the refusals");
            }
            try (Frame f = c.call(Command.REGION_READ, TestDevice.payload(new RegionRead.Request(0, BAR0, 4)))) {
                assertEquals(4 + 16, f.payloadBytes().length, "a 4-byte access is served");
            }
        }
    }

    @Test
    void aDmaMapNamingTheMmapOrFileIoAccessModeIsMappedAndWithoutAnFdRefused() throws Exception {
        try (io.vfu.transport.nativeio.OwnedFd ram = io.vfu.transport.nativeio.MemFd.create("ram", 1 << 16);
             io.vfu.transport.nativeio.OwnedFd file = io.vfu.transport.nativeio.MemFd.create("file-io", 1 << 16);
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            long rw = DmaMap.FLAG_READ | DmaMap.FLAG_WRITE;
            long before = mappingsOf(ram);
            // libvfio-user clients set the mmap mode (bit 2) on every map that carries an fd.
            d.call(new DmaMap.Request(32, rw | DmaMap.FLAG_MMAP, 0, 0x100000, 0x8000), ram.fd());
            assertEquals(before + 1, mappingsOf(ram), "the mmap mode is mapped");
            // File I/O mode (bit 3) on an fd that mmaps: the same bytes, so it is mapped too.
            d.call(new DmaMap.Request(32, rw | DmaMap.FLAG_FILE_IO, 0, 0x200000, 0x8000), file.fd());
            assertEquals(1, mappingsOf(file), "the file I/O mode is served through a mapping");
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32, rw | DmaMap.FLAG_MMAP,
                    0, 0x300000, 0x1000))), "an access mode without an fd");
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaMap.Request(32, rw | 0x10, 0, 0x300000,
                    0x1000), ram.fd())), "an undefined flag bit");
            assertEquals(0x31554656L, d.read(BAR0, 0, 4));
        }
    }

    @Test
    void unmapAllWithAnAddressOrSizeIsEinvalAndUnmapsNothing() throws Exception {
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            d.call(new DmaMap.Request(32, DmaMap.FLAG_READ, 0, 0x100000, 0x1000));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaUnmap.Request(24, DmaUnmap.FLAG_UNMAP_ALL,
                    0x100000, 0x1000))));
            assertEquals(Errno.EINVAL.code(), errno(() -> d.call(new DmaUnmap.Request(24, DmaUnmap.FLAG_UNMAP_ALL,
                    0, 0x1000))));
            // The window is still there: unmapping it exactly succeeds, and QEMU's unmap-all (0, 0) still works.
            d.call(new DmaUnmap.Request(24, 0, 0x100000, 0x1000));
            d.call(new DmaUnmap.Request(24, DmaUnmap.FLAG_UNMAP_ALL, 0, 0));
        }
    }

    private static long mappingsOf(io.vfu.transport.nativeio.OwnedFd memfd) throws Exception {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + memfd.fd())).toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(target)).count();
    }

    @Test
    void aSessionLeaksNoFdsOrMappings() throws Exception {
        // Warm up once so lazily opened JDK/native fds are not counted against the session.
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            d.read(BAR0, 0, 4);
        }
        awaitIdle();
        long before = Fds.openCount();
        // A name no other test maps, so every /proc/self/maps line naming it is this session's mapping.
        String ram = "leak-check-" + System.nanoTime();
        try (io.vfu.transport.nativeio.OwnedFd memfd = io.vfu.transport.nativeio.MemFd.create(ram, 1 << 16);
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            d.enableMsix();
            d.assignVector(0, a.fd().fd());
            d.assignVector(1, b.fd().fd());
            d.assignVector(1, a.fd().fd()); // replaces: the server must close its copy of b
            d.call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, 0x10000, 1 << 16), memfd.fd());
            assertTrue(mappingsNamed(ram) > 0, "the server mapped the DMA window while the session lives");
        }
        awaitIdle();
        Await.until(WAIT, () -> Fds.openCount() == before, () -> "every fd the session received to be closed: "
                + before + " open before, " + Fds.openCount() + " now");
        // The test closed its memfd, so a mapping still naming it can only be the server's, kept past the session.
        Await.until(WAIT, () -> mappingsNamed(ram) == 0,
                () -> "the server to unmap the session's DMA window: " + mappingsNamed(ram) + " mappings left");
    }

    /** Lines of {@code /proc/self/maps} naming the memfd {@code name} (the kernel shows "/memfd:NAME (deleted)"). */
    private static long mappingsNamed(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith("/memfd:" + name + " (deleted)") || l.endsWith("/memfd:" + name)).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void awaitIdle() throws InterruptedException {
        Await.until(WAIT, () -> !server.endpoints().get(0).busy(), () -> "the previous session to end");
    }
}
