package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.it.blk.BlkBackend;
import io.vfu.it.blk.BlkDisk;
import io.vfu.it.blk.BlkGuest;
import io.vfu.it.blk.BlkImageCheck;
import io.vfu.it.blk.BlkLayout;
import io.vfu.it.blk.BlkPattern;
import io.vfu.it.blk.BlkResult;
import io.vfu.it.blk.BlkRun;
import io.vfu.it.blk.E2fsck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 with a real guest: the Debian 6.12 guest's own virtio_pci and virtio_blk drivers use a virtio-blk
 * disk of 64 MiB ({@link BlkGuest}, program in {@code src/main/guest-blk}). The guest checks size, serial and
 * queue count, writes a pattern over the whole disk with 4 parallel O_DIRECT writers and reads it back after
 * dropping its caches, discards one range and write-zeroes another (both must read zeros, their neighbours keep
 * the pattern), then makes an ext2 filesystem on the first half, writes files and re-checks them after a
 * remount. The host then checks the image byte for byte against the {@link BlkLayout} and runs
 * {@code e2fsck -fn} on it.
 *
 * <p>The same run targets QEMU's in-process virtio-blk-pci (the anchor the guest program and the host checks
 * were validated against) and our virtio-blk device served by {@code vfu-server.jar} through vfio-user-pci,
 * where the server's metrics must also show the I/O as mmap DMA.
 */
class VirtioBlkGuestTest {
    static final Duration BOOT_LIMIT = Duration.ofMinutes(5);
    static final long SIZE = 64L << 20;
    static final int QUEUES = 2;
    static final String SERIAL = "VFU-BLK-0013";
    static final String DEVICE = "blk0";

    @TempDir
    static Path dir;
    static Path initrd;
    private final Provisioned provisioned = Provisioned.load();

    @BeforeAll
    static void buildGuest() throws Exception {
        initrd = BlkGuest.initramfs(Provisioned.load(), dir);
    }

    @Test
    void qemusOwnVirtioBlkPassesEveryGuestAndImageCheck() throws Exception {
        Path work = Files.createDirectories(dir.resolve("qemu"));
        BlkDisk disk = new BlkDisk(work.resolve("disk.img"), SIZE, SERIAL, QUEUES).create();
        BlkLayout layout = new BlkLayout(SIZE, 0x13_0001L, 4);
        BlkRun run = BlkRun.boot(BlkGuest.command(provisioned, initrd, BlkBackend.QEMU, disk, null,
                layout.kernelArgs(disk)), BOOT_LIMIT);
        BlkResult r = assertGuest(run, layout);
        System.out.println("virtio-blk-pci (QEMU in-process), " + run.wall().toMillis() + " ms: " + r.line());
        assertImage(disk, layout);
    }

    @Test
    void ourVirtioBlkPassesEveryGuestAndImageCheckAndItsMetricsShowTheIo() throws Exception {
        Path work = Files.createDirectories(dir.resolve("vfu"));
        BlkDisk disk = new BlkDisk(work.resolve("disk.img"), SIZE, SERIAL, QUEUES).create();
        BlkLayout layout = new BlkLayout(SIZE, 0x13_0002L, 4);
        Path socket = work.resolve("blk0.sock");
        Path config = Files.writeString(work.resolve("vfu.json"), BlkBackend.serverConfig(DEVICE, disk, socket));
        try (ServerProcess server = ServerProcess.start(config, work, work.resolve("crash"), Duration.ofSeconds(60))) {
            BlkRun run = BlkRun.boot(BlkGuest.command(provisioned, initrd, BlkBackend.VFU, disk, socket,
                    layout.kernelArgs(disk)), BOOT_LIMIT);
            BlkResult r;
            try {
                r = assertGuest(run, layout);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\n--- server errors\n" + server.stderrErrors(20)
                        + "\n--- server stderr (tail)\n" + server.stderrTail(40), e);
            }
            System.out.println("virtio-blk over vfio-user (ours), " + run.wall().toMillis() + " ms: " + r.line());
            Scrape s = server.metrics().scrape();
            Map<String, String> mmapRead = Map.of("device", DEVICE, "mode", "mmap", "direction", "read");
            Map<String, String> mmapWrite = Map.of("device", DEVICE, "mode", "mmap", "direction", "write");
            assertAll(
                    // The device reads guest memory for every byte the guest wrote (plus the filesystem's writes).
                    () -> assertTrue(s.sum("vfu_dma_bytes_total", mmapRead) >= r.count("bytes_written"),
                            "mmap DMA reads cover the guest's writes:\n" + dma(s)),
                    // ... and writes guest memory for every byte the guest read.
                    () -> assertTrue(s.sum("vfu_dma_bytes_total", mmapWrite) >= r.count("bytes_read"),
                            "mmap DMA writes cover the guest's reads:\n" + dma(s)),
                    // All guest RAM is a shared memfd, so nothing has to go by DMA_READ/DMA_WRITE messages.
                    () -> assertEquals(0.0, s.sum("vfu_dma_bytes_total", Map.of("device", DEVICE, "mode", "message")),
                            "no message DMA with a memfd backend:\n" + dma(s)),
                    () -> assertEquals(1.0, s.sum("vfu_sessions_opened_total", Map.of("device", DEVICE)),
                            "one vfio-user session:\n" + s.text()),
                    // The device's own meters agree: every guest byte passed through its requests.
                    () -> assertTrue(device(s, "written_bytes") >= r.count("bytes_written"), blk(s)),
                    () -> assertTrue(device(s, "read_bytes") >= r.count("bytes_read"), blk(s)),
                    () -> assertTrue(device(s, "discards") >= 1, "the guest's BLKDISCARD reached the device:\n" + blk(s)),
                    () -> assertTrue(device(s, "write_zeroes") >= 1, "BLKZEROOUT went as WRITE_ZEROES:\n" + blk(s)),
                    () -> assertTrue(device(s, "flushes") >= 1, "fsync reached the device as FLUSH:\n" + blk(s)),
                    () -> assertEquals(0.0, device(s, "request_errors"), "no request failed:\n" + blk(s)),
                    () -> assertEquals(0.0, device(s, "ring_errors"), "the guest's rings were all valid:\n" + blk(s)));
        }
        assertImage(disk, layout);
    }

    /** Every field of the result line, the detail line's serial and error, and the program's exit status. */
    private static BlkResult assertGuest(BlkRun run, BlkLayout layout) {
        assertEquals(0, run.exitCode(), run::transcript);
        BlkResult r = BlkResult.of(run);
        String why = r.line() + "\nDETAIL " + r.detail() + "\n" + run.transcript();
        // The program's own O_DIRECT reads: the whole pattern, both zero ranges, and one block each side of each.
        long read = SIZE + layout.discard().length() + layout.zeroes().length() + 4L * BlkPattern.BLOCK;
        assertAll(
                () -> assertEquals("", r.detail().path("error").asText(), why),
                () -> assertTrue(r.flag("size_ok"), "/sys/block/vda/size: " + why),
                () -> assertEquals(SERIAL, r.detail().path("serial").asText(), "/sys/block/vda/serial: " + why),
                // Linux's virtio_blk uses min(device queues, vCPUs) request queues.
                () -> assertEquals(Math.min(QUEUES, BlkGuest.CPUS), r.count("queues"), "/sys/block/vda/mq: " + why),
                () -> assertTrue(r.flag("pattern_ok"), why),
                () -> assertTrue(r.flag("discard_ok"), why),
                () -> assertTrue(r.flag("fs_ok"), why),
                () -> assertEquals(SIZE, r.count("bytes_written"), why),
                () -> assertEquals(read, r.count("bytes_read"), why),
                () -> assertTrue(run.console().contains("vfu-guest: test exit 0"), why));
        return r;
    }

    /** The image as the layout says, byte for byte, and a clean filesystem by the host's e2fsck. */
    private static void assertImage(BlkDisk disk, BlkLayout layout) throws Exception {
        List<String> problems = BlkImageCheck.problems(disk.image(), layout);
        assertTrue(problems.isEmpty(), () -> "image " + disk.image() + ":\n" + String.join("\n", problems));
        ProcessResult fsck = E2fsck.check(disk.image());
        assertEquals(0, fsck.exitCode(), () -> "e2fsck -fn:\n" + fsck.stdout() + fsck.stderr());
    }

    /** A counter of the device's own meters, {@code vfu_device_virtio_blk_NAME_total}. */
    private static double device(Scrape s, String name) {
        return s.sum("vfu_device_virtio_blk_" + name + "_total", Map.of("device", DEVICE));
    }

    private static String blk(Scrape s) {
        return s.text().lines().filter(l -> l.startsWith("vfu_device_virtio_blk_")).reduce("", (a, b) -> a + b + "\n");
    }

    private static String dma(Scrape s) {
        return s.text().lines().filter(l -> l.startsWith("vfu_dma_bytes_total")).reduce("", (a, b) -> a + b + "\n");
    }
}
