package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Errno;
import io.vfu.server.ServerLimits;
import io.vfu.server.VfuServer;
import io.vfu.client.DmaHandler;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.ErrorReplyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DMA_MAP can never exhaust the process's mappings (issue "Hardening", fault 1): windows of one file share one
 * mapping, so the 65,535 windows VERSION advertises fit; distinct files are budgeted per session and per
 * process, and past a budget DMA_MAP answers ENOSPC while the session goes on.
 */
class DmaMappingBudgetTest {

    private static final long RW = DmaMap.FLAG_READ | DmaMap.FLAG_WRITE;
    private static final int PAGE = 4096;

    @TempDir
    Path dir;
    VfuServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private Path start(ServerLimits limits, String... devices) throws Exception {
        List<DeviceSpec> specs = new ArrayList<>();
        for (String d : devices) {
            specs.add(DeviceSpec.defaultDevice(d, dir.resolve(d + ".sock")));
        }
        server = VfuServer.start(new ServerConfig(specs, List.of(), null), Optional.empty(), "127.0.0.1", limits);
        return dir.resolve(devices[0] + ".sock");
    }

    /** Mappings of {@code memfd}'s file in this process (the in-process server's; the test maps none). */
    private static long mappingsOf(OwnedFd memfd) throws Exception {
        return mappingsNamed(Files.readSymbolicLink(Path.of("/proc/self/fd/" + memfd.fd())).toString());
    }

    /** Lines of {@code /proc/self/maps} naming {@code target} (what {@code /proc/self/fd} says the file is). */
    private static long mappingsNamed(String target) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(target)).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long errno(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(ErrorReplyException.class, e).errno();
    }

    /** A guest behind a vIOMMU maps page by page: 65,535 windows of one memfd cost the process one mapping. */
    @Test
    void theAdvertisedMaxDmaMapsWindowsOfOneFileCostOneMapping() throws Exception {
        Path socket = start(ServerLimits.DEFAULT, "dev0");
        int windows = 65_535;
        try (OwnedFd ram = MemFd.create("guest-ram", (long) windows * PAGE);
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            for (int i = 0; i < windows; i++) {
                long iova = 0x1_0000_0000L + (long) i * PAGE;
                d.call(new DmaMap.Request(32, RW, (long) i * PAGE, iova, PAGE), ram.fd());
                if (i == 999) {
                    assertEquals(1, mappingsOf(ram), "1,000 windows of one file share one mapping");
                }
            }
            assertEquals(1, mappingsOf(ram), "65,535 windows of one file share one mapping");
            assertEquals(Errno.ENOSPC.code(), errno(() -> d.call(new DmaMap.Request(32, RW, 0, 0x10_0000, PAGE),
                    ram.fd())), "past max_dma_maps");
            assertEquals(0x1b5a, d.read(TestDevice.CONFIG, 0, 2), "the session goes on");
            d.call(new DmaUnmap.Request(24, DmaUnmap.FLAG_UNMAP_ALL, 0, 0));
            assertEquals(0, mappingsOf(ram), "unmap-all released the mapping");
        }
    }

    @Test
    void distinctFilesPastTheSessionBudgetGetEnospcAndTheSessionGoesOn() throws Exception {
        Path socket = start(ServerLimits.DEFAULT.withMappedFiles(16, 1000), "dev0");
        List<OwnedFd> files = new ArrayList<>();
        try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            for (int i = 0; i < 17; i++) {
                files.add(MemFd.create("file" + i, PAGE));
            }
            for (int i = 0; i < 16; i++) {
                d.call(new DmaMap.Request(32, RW, 0, (long) i * PAGE, PAGE), files.get(i).fd());
            }
            OwnedFd last = files.get(16);
            assertEquals(Errno.ENOSPC.code(), errno(() -> d.call(new DmaMap.Request(32, RW, 0, 16L * PAGE, PAGE),
                    last.fd())), "the 17th file is past the session's budget");
            assertEquals(0, mappingsOf(last), "nothing was mapped for it");
            assertEquals(0x1b5a, d.read(TestDevice.CONFIG, 0, 2), "the session goes on");
            // A second window of a file already mapped needs no new mapping.
            d.call(new DmaMap.Request(32, RW, 0, 100L * PAGE, PAGE), files.get(0).fd());
            // Unmapping a file's only window gives its mapping back.
            d.call(new DmaUnmap.Request(24, 0, 5L * PAGE, PAGE));
            d.call(new DmaMap.Request(32, RW, 0, 16L * PAGE, PAGE), last.fd());
            assertEquals(1, mappingsOf(last));
        } finally {
            for (OwnedFd f : files) {
                awaitUnmapped(f);
                f.close();
            }
        }
    }

    @Test
    void theProcessBudgetIsSharedByEveryDeviceAndFreedWhenASessionEnds() throws Exception {
        Path a = start(ServerLimits.DEFAULT.withMappedFiles(16, 20), "dev0", "dev1");
        Path b = dir.resolve("dev1.sock");
        List<OwnedFd> files = new ArrayList<>();
        for (int i = 0; i < 22; i++) {
            files.add(MemFd.create("file" + i, PAGE));
        }
        try (TestDevice second = TestDevice.open(b, DmaHandler.refuseAll())) {
            try (TestDevice first = TestDevice.open(a, DmaHandler.refuseAll())) {
                for (int i = 0; i < 16; i++) {
                    first.call(new DmaMap.Request(32, RW, 0, (long) i * PAGE, PAGE), files.get(i).fd());
                }
                for (int i = 16; i < 20; i++) {
                    second.call(new DmaMap.Request(32, RW, 0, (long) i * PAGE, PAGE), files.get(i).fd());
                }
                assertEquals(Errno.ENOSPC.code(), errno(() -> second.call(
                        new DmaMap.Request(32, RW, 0, 20L * PAGE, PAGE), files.get(20).fd())),
                        "the process budget of 20 is spent");
                assertEquals(0x1b5a, second.read(TestDevice.CONFIG, 0, 2), "the session goes on");
            }
            // The first client left: its 16 mappings are back in the budget.
            for (int i = 0; i < 16; i++) {
                awaitUnmapped(files.get(i));
            }
            second.call(new DmaMap.Request(32, RW, 0, 20L * PAGE, PAGE), files.get(20).fd());
            second.call(new DmaMap.Request(32, RW, 0, 21L * PAGE, PAGE), files.get(21).fd());
            assertTrue(server.registry().scrape().contains("vfu_dma_mapped_files 6.0"), server.registry().scrape());
        } finally {
            for (OwnedFd f : files) {
                awaitUnmapped(f);
                f.close();
            }
        }
    }

    /** Waits until the server holds no mapping of {@code f} (a session's end is processed asynchronously). */
    private static void awaitUnmapped(OwnedFd f) throws Exception {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + f.fd())).toString();
        Await.until(Duration.ofSeconds(5), () -> mappingsNamed(target) == 0,
                () -> "the server to release its mapping of " + f + ": " + mappingsNamed(target) + " left");
    }
}
