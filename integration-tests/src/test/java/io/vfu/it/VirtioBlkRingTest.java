package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.testkit.DeviceClient;
import io.vfu.testkit.GuestRam;
import io.vfu.testkit.VfioDeviceExtension;
import io.vfu.transport.nativeio.EventFd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The virtio-blk device ({@code "type": "virtio-blk"}) driven by a test playing the guest's driver over a real
 * socket, with rings in mapped guest memory: the good path lands in the image file, and every broken ring or
 * request gets the virtio answer (IOERR status, or that queue stopped with NEEDS_RESET and a configuration
 * interrupt) while the other queue keeps being served.
 */
class VirtioBlkRingTest {

    static final Path IMAGE = tempImage();
    static final long IMAGE_SIZE = 8 << 20;
    static final String SERIAL = "vfu-ring-test";

    @RegisterExtension
    final VfioDeviceExtension dut = VfioDeviceExtension.ofType("virtio-blk", """
            {"image": "%s", "size": %d, "queues": 2, "queueSize": 16, "serial": "%s"}"""
            .formatted(IMAGE, IMAGE_SIZE, SERIAL));

    static final long RAM = 0x10_0000;
    static final long RAM_SIZE = 4 << 20;
    static final long DATA = RAM + 0x10_0000;
    static final long HEADER = RAM + 0x8000;
    static final long STATUS = RAM + 0x9000;
    static final long FEATURES = 1L << 32 | 1L << 28 | 1L << 12 | 1L << 9 | 1L << 13 | 1L << 14 | 1L << 6 | 1L << 2
            | 1L << 1;
    static final Duration WAIT = Duration.ofSeconds(10);

    DeviceClient c;
    GuestRam ram;
    VirtioTestDriver drv;
    VirtioTestDriver.Ring q0;
    VirtioTestDriver.Ring q1;
    EventFd[] irq;

    private static Path tempImage() {
        try {
            return Files.createTempDirectory("vfu-blk-ring").resolve("disk.img");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeEach
    void driverSetsUpTwoQueues() throws Exception {
        c = dut.client();
        ram = c.mapGuestMemory(RAM, RAM_SIZE);
        drv = VirtioTestDriver.probe(c);
        irq = drv.interrupts(2);
        assertEquals(VirtioTestDriver.ACKNOWLEDGE | VirtioTestDriver.DRIVER | VirtioTestDriver.FEATURES_OK,
                drv.negotiate(FEATURES), "the device accepts the features it offered");
        q0 = drv.queue(ram, 0, 16, RAM);
        q1 = drv.queue(ram, 1, 16, RAM + 0x1000);
        drv.driverOk();
    }

    @Test
    void theDeviceIsAModernVirtioBlockFunction() throws Exception {
        assertEquals(0x1042_1AF4L, c.config32(0), "vendor 0x1af4, device 0x1040 + 2");
        assertTrue((c.config32(8) & 0xFF) >= 1, "a modern-only device has revision >= 1");
        for (int cfgType = 1; cfgType <= 5; cfgType++) {
            assertTrue(drv.structures.containsKey(cfgType), "virtio_pci_cap cfg_type " + cfgType);
        }
        long f = drv.offeredFeatures();
        for (int bit : new int[] {32, 28, 29, 12, 9, 13, 14, 6, 1, 2}) {
            assertTrue((f & 1L << bit) != 0, "feature bit " + bit + " offered in " + Long.toHexString(f));
        }
        assertEquals(0, f & 1L << 5, "a writable image is not RO");
        assertEquals(IMAGE_SIZE / 512, drv.deviceConfig(0, 8), "capacity in 512-byte sectors");
        assertEquals(2, drv.deviceConfig(0x22, 2), "num_queues");
        assertEquals(512, drv.deviceConfig(0x14, 4), "blk_size");
    }

    @Test
    void thePciConfigurationAccessCapabilityReachesTheStructures() throws Exception {
        int cap = -1;
        int at = (int) c.read(DeviceClient.CONFIG, 0x34, 1);
        for (int hops = 0; at >= 0x40 && hops < 48 && cap < 0; hops++) {
            long header = c.read(DeviceClient.CONFIG, at, 4);
            if ((header & 0xFF) == 0x09 && (header >>> 24) == 5) {
                cap = at;
            }
            at = (int) (header >>> 8) & 0xFC;
        }
        assertTrue(cap >= 0, "a virtio_pci_cfg_cap (cfg_type 5)");
        long[] device = drv.structures.get(4);
        c.write(DeviceClient.CONFIG, cap + 4, 1, device[0]);
        c.write(DeviceClient.CONFIG, cap + 8, 4, device[1] + 0x14); // blk_size
        c.write(DeviceClient.CONFIG, cap + 12, 4, 4);
        assertEquals(512, c.read(DeviceClient.CONFIG, cap + 16, 4), "blk_size through pci_cfg_data");
        long[] common = drv.structures.get(1);
        c.write(DeviceClient.CONFIG, cap + 8, 4, common[1] + 0x12); // num_queues
        c.write(DeviceClient.CONFIG, cap + 12, 4, 2);
        assertEquals(2, c.read(DeviceClient.CONFIG, cap + 16, 4), "num_queues, a 2-byte access");
        c.write(DeviceClient.CONFIG, cap + 8, 4, common[1] + 0x16); // queue_select, written through the window
        c.write(DeviceClient.CONFIG, cap + 16, 4, 1);
        assertEquals(1, drv.common(0x16, 2), "a write through pci_cfg_data reaches the register");
    }

    @Test
    void aWriteLandsInTheImageAndReadsBackAndGetIdAnswersTheSerial() throws Exception {
        byte[] pattern = pattern(8 * 512, 7);
        MemorySegment.copy(MemorySegment.ofArray(pattern), 0, ram.memory(), DATA - RAM, pattern.length);
        request(q0, 0, 1, 10, DATA, pattern.length, false);
        assertEquals(0, complete(q0, 1, 1), "write status OK");
        assertArrayEquals(pattern, imageBytes(10 * 512, pattern.length), "the image holds what the guest wrote");

        ram.memory().asSlice(DATA - RAM + 0x10000, pattern.length).fill((byte) 0);
        request(q0, 3, 0, 10, DATA + 0x10000, pattern.length, true);
        assertEquals(0, complete(q0, 2, 1), "read status OK");
        assertArrayEquals(pattern, ram.memory().asSlice(DATA - RAM + 0x10000, pattern.length)
                .toArray(ValueLayout.JAVA_BYTE), "read back into guest memory");
        assertEquals(pattern.length + 1, q0.usedElem(1)[1], "used length: data and status");

        request(q0, 6, 8, 0, DATA + 0x20000, 20, true);
        assertEquals(0, complete(q0, 3, 1), "GET_ID status OK");
        byte[] id = ram.memory().asSlice(DATA - RAM + 0x20000, 20).toArray(ValueLayout.JAVA_BYTE);
        assertEquals(SERIAL, new String(id, 0, SERIAL.length(), java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(0, id[SERIAL.length()], "zero-padded to 20 bytes");
    }

    @Test
    void scatteredBuffersAreOneContiguousRangeOfTheDiskInChainOrder() throws Exception {
        byte[] pattern = pattern(6 * 512, 5);
        long[] parts = {DATA + 0x50000, DATA + 0x20000, DATA + 0x61000}; // out of address order on purpose
        int[] sizes = {1024, 512, 1536};
        int from = 0;
        for (int i = 0; i < 3; i++) {
            MemorySegment.copy(MemorySegment.ofArray(pattern), from, ram.memory(), parts[i] - RAM, sizes[i]);
            from += sizes[i];
        }
        writeHeader(HEADER, 1, 200);
        q0.desc(0, HEADER, 16, 1, 1);
        q0.desc(1, parts[0], sizes[0], 1, 2);
        q0.desc(2, parts[1], sizes[1], 1, 3);
        q0.desc(3, parts[2], sizes[2], 1, 4);
        q0.desc(4, STATUS, 1, 2, 0);
        q0.offer(0);
        assertEquals(0, complete(q0, 1, 1), "a write of three buffers");
        assertArrayEquals(pattern, imageBytes(200 * 512, pattern.length), "lands in chain order");

        writeHeader(HEADER + 0x40, 0, 200);
        q0.desc(5, HEADER + 0x40, 16, 1, 6);
        q0.desc(6, DATA + 0x70000, 2048, 1 | 2, 7);
        q0.desc(7, DATA + 0x68000, 1024, 1 | 2, 8);
        q0.desc(8, STATUS + 5, 1, 2, 0);
        q0.offer(5);
        assertEquals(0, complete(q0, 2, 1), "a read into two buffers");
        byte[] back = new byte[pattern.length];
        MemorySegment.copy(ram.memory(), ValueLayout.JAVA_BYTE, DATA + 0x70000 - RAM, back, 0, 2048);
        MemorySegment.copy(ram.memory(), ValueLayout.JAVA_BYTE, DATA + 0x68000 - RAM, back, 2048, 1024);
        assertArrayEquals(pattern, back, "reads back in chain order");
    }

    @Test
    void aKickWhileTheClientMapsGuestMemoryAgainIsServedOnceItIsBack() throws Exception {
        request(q0, 0, 0, 0, DATA, 512, true);
        // QEMU unmaps guest RAM and maps it again when firmware changes the memory layout (PAM), while the
        // device may already be reading a ring; the request must wait for the window, not break the queue.
        ram.remapAround(() -> {
            drv.kick(0);
            Thread.sleep(50);
        });
        assertEquals(0, await(q0, 1, 1), "served after the window came back");
        assertEquals(0, drv.status() & VirtioTestDriver.NEEDS_RESET, "no NEEDS_RESET for a transient hole");
    }

    @Test
    void discardAndWriteZeroesLeaveZerosInTheImage() throws Exception {
        byte[] pattern = pattern(16 * 512, 3);
        MemorySegment.copy(MemorySegment.ofArray(pattern), 0, ram.memory(), DATA - RAM, pattern.length);
        request(q0, 0, 1, 100, DATA, pattern.length, false);
        assertEquals(0, complete(q0, 1, 1));
        rangeRequest(q0, 3, 11, 100, 8, 0); // discard sectors 100-107
        assertEquals(0, complete(q0, 2, 1), "discard OK");
        rangeRequest(q0, 6, 13, 108, 4, 1); // write-zeroes with unmap, sectors 108-111
        assertEquals(0, complete(q0, 3, 1), "write zeroes OK");
        assertArrayEquals(new byte[12 * 512], imageBytes(100 * 512, 12 * 512), "discarded and zeroed sectors read 0");
        assertArrayEquals(java.util.Arrays.copyOfRange(pattern, 12 * 512, 16 * 512), imageBytes(112 * 512, 4 * 512),
                "the sectors after are untouched");
        rangeRequest(q0, 9, 11, 0, 1, 1); // discard with the unmap flag: not a discard flag
        assertEquals(2, complete(q0, 4, 1), "unknown discard flags are UNSUPP");
    }

    @Test
    void badRequestsAreIoErrorsAndTheQueueGoesOn() throws Exception {
        request(q0, 0, 0, IMAGE_SIZE / 512 - 1, DATA, 1024, true); // one sector past the end
        assertEquals(1, complete(q0, 1, 1), "past the end: IOERR");
        request(q0, 3, 0, 0, DATA, 100, true); // not a whole sector
        assertEquals(1, complete(q0, 2, 1), "partial sector: IOERR");
        request(q0, 6, 0, 0, RAM + RAM_SIZE + 0x10000, 512, true); // data outside guest memory
        assertEquals(1, complete(q0, 3, 1), "data outside guest memory: IOERR");
        request(q0, 9, 99, 0, DATA, 512, true); // unknown type
        assertEquals(2, complete(q0, 4, 1), "unknown type: UNSUPP");
        request(q0, 12, 0, 0, DATA, 512, true);
        assertEquals(0, complete(q0, 5, 1), "a good request after all of them");
        assertEquals(0, drv.status() & VirtioTestDriver.NEEDS_RESET, "request errors are not ring errors");
    }

    @Test
    void aDescriptorLoopStopsThatQueueWithNeedsResetAndTheOtherServes() throws Exception {
        q0.desc(0, HEADER, 16, 1, 1);
        q0.desc(1, DATA, 512, 1 | 2, 0); // back to 0: a loop
        q0.offer(0);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void aHeadOutsideTheRingStopsThatQueue() throws Exception {
        q0.offer(16);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void anAvailIndexMoreThanARingAheadStopsThatQueue() throws Exception {
        q0.setAvailIdx(17);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void anIndirectTableInsideAnIndirectTableStopsThatQueue() throws Exception {
        long table = RAM + 0xA000;
        q0.desc(0, table, 32, 4, 0);
        q0.indirect(table, 0, table, 32, 4, 0);
        q0.offer(0);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void anIndirectTableOfPartDescriptorsStopsThatQueue() throws Exception {
        q0.desc(0, RAM + 0xA000, 24, 4, 0);
        q0.offer(0);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void aRequestWithoutAStatusByteStopsThatQueue() throws Exception {
        q0.desc(0, HEADER, 16, 0, 0); // header only, nothing writable
        writeHeader(HEADER, 4, 0);
        q0.offer(0);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void aReadableBufferAfterAWritableOneStopsThatQueue() throws Exception {
        writeHeader(HEADER, 1, 0);
        q0.desc(0, HEADER, 16, 1, 1);
        q0.desc(1, STATUS, 1, 1 | 2, 2);
        q0.desc(2, DATA, 512, 0, 0); // readable after writable
        q0.offer(0);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        assertOtherQueueServes();
    }

    @Test
    void indirectDescriptorsCarryAGoodRequest() throws Exception {
        long table = RAM + 0xB000;
        byte[] pattern = pattern(1024, 11);
        MemorySegment.copy(MemorySegment.ofArray(pattern), 0, ram.memory(), DATA - RAM, pattern.length);
        writeHeader(HEADER, 1, 40);
        q0.indirect(table, 0, HEADER, 16, 1, 1);
        q0.indirect(table, 1, DATA, 1024, 1, 2);
        q0.indirect(table, 2, STATUS, 1, 2, 0);
        q0.desc(0, table, 48, 4, 0);
        q0.offer(0);
        drv.kick(0);
        assertEquals(0, await(q0, 1, 1));
        assertArrayEquals(pattern, imageBytes(40 * 512, 1024));
    }

    @Test
    void aVirtioResetAfterABrokenRingBringsTheQueueBack() throws Exception {
        q0.offer(16);
        drv.kick(0);
        assertBrokenWithConfigInterrupt();
        drv.common(0x14, 1, 0);
        assertEquals(0, drv.status(), "status reads 0 once the reset is done");
        ram.memory().asSlice(0, 0x2000).fill((byte) 0);
        drv.negotiate(FEATURES);
        q0 = drv.queue(ram, 0, 16, RAM);
        drv.driverOk();
        request(q0, 0, 0, 0, DATA, 512, true);
        assertEquals(0, complete(q0, 1, 1), "the reset queue serves again");
    }

    // --- helpers ---

    private void assertBrokenWithConfigInterrupt() throws Exception {
        OptionalLong config = DeviceClient.await(irq[0], WAIT);
        assertTrue(config.isPresent(), "a configuration-change interrupt announces NEEDS_RESET");
        assertEquals(VirtioTestDriver.NEEDS_RESET, drv.status() & VirtioTestDriver.NEEDS_RESET, "NEEDS_RESET set");
        assertEquals(0, q0.usedIdx(), "nothing of the broken chain was used");
    }

    private void assertOtherQueueServes() throws Exception {
        request(q1, 0, 0, 0, DATA + 0x40000, 512, true);
        assertEquals(0, complete(q1, 1, 2), "the other queue still serves");
    }

    /** Three descriptors from {@code first}: header, data (device-writable for a read), status. */
    private void request(VirtioTestDriver.Ring r, int first, int type, long sector, long data, int length,
            boolean deviceWrites) {
        long header = HEADER + 0x100L * r.index + 16L * first;
        long status = STATUS + 0x100L * r.index + first;
        writeHeader(header, type, sector);
        ram.memory().set(ValueLayout.JAVA_BYTE, status - RAM, (byte) 0xEE);
        r.desc(first, header, 16, 1, first + 1);
        r.desc(first + 1, data, length, 1 | (deviceWrites ? 2 : 0), first + 2);
        r.desc(first + 2, status, 1, 2, 0);
        r.offer(first);
    }

    /** A discard (11) or write-zeroes (13) of one segment. */
    private void rangeRequest(VirtioTestDriver.Ring r, int first, int type, long sector, int count, int flags) {
        long seg = DATA + 0x30000 + 16L * first;
        MemorySegment m = ram.memory();
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, seg - RAM, sector);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, seg - RAM + 8, count);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, seg - RAM + 12, flags);
        long header = HEADER + 16L * first;
        long status = STATUS + first;
        writeHeader(header, type, 0);
        r.desc(first, header, 16, 1, first + 1);
        r.desc(first + 1, seg, 16, 1, first + 2);
        r.desc(first + 2, status, 1, 2, 0);
        r.offer(first);
    }

    private void writeHeader(long at, int type, long sector) {
        ram.memory().set(ValueLayout.JAVA_INT_UNALIGNED, at - RAM, type);
        ram.memory().set(ValueLayout.JAVA_INT_UNALIGNED, at - RAM + 4, 0);
        ram.memory().set(ValueLayout.JAVA_LONG_UNALIGNED, at - RAM + 8, sector);
    }

    /** Kicks the ring's queue and returns the status of the request that makes used idx {@code expectUsed}. */
    private int complete(VirtioTestDriver.Ring r, int expectUsed, int vector) throws Exception {
        drv.kick(r.index);
        return await(r, expectUsed, vector);
    }

    private int await(VirtioTestDriver.Ring r, int expectUsed, int vector) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (r.usedIdx() != expectUsed && System.nanoTime() < deadline) {
            DeviceClient.await(irq[vector], Duration.ofMillis(200));
        }
        assertEquals(expectUsed, r.usedIdx(), "used idx");
        int head = r.usedElem(expectUsed - 1)[0];
        // Rule of these tests: a request's status byte sits at STATUS + 0x100 * queue + head.
        return ram.memory().get(ValueLayout.JAVA_BYTE, STATUS + 0x100L * r.index + head - RAM) & 0xFF;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 9));
        }
        return b;
    }

    private static byte[] imageBytes(long at, int length) throws IOException {
        try (FileChannel f = FileChannel.open(IMAGE, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && f.read(b, at + b.position()) > 0) {
                // read until full
            }
            return b.array();
        }
    }
}
