package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.testkit.DeviceClient;
import io.vfu.testkit.GuestRam;
import io.vfu.testkit.VfioDeviceExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A read-only image ({@code "readOnly": true}): the device offers VIRTIO_BLK_F_RO and no discard or
 * write-zeroes, reads work, and a write is answered IOERR with the file unchanged.
 */
class VirtioBlkReadOnlyTest {

    static final byte[] CONTENT = content();
    static final Path IMAGE = image();

    @RegisterExtension
    final VfioDeviceExtension dut = VfioDeviceExtension.ofType("virtio-blk", """
            {"image": "%s", "readOnly": true, "queues": 1, "queueSize": 8}""".formatted(IMAGE));

    private static byte[] content() {
        byte[] b = new byte[1 << 20];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i ^ i >>> 8);
        }
        return b;
    }

    private static Path image() {
        try {
            return Files.write(Files.createTempDirectory("vfu-blk-ro").resolve("ro.img"), CONTENT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aReadOnlyImageOffersRoAndRefusesWrites() throws Exception {
        DeviceClient c = dut.client();
        GuestRam ram = c.mapGuestMemory(0x10_0000, 1 << 20);
        VirtioTestDriver drv = VirtioTestDriver.probe(c);
        var irq = drv.interrupts(1);
        long offered = drv.offeredFeatures();
        assertTrue((offered & 1L << 5) != 0, "VIRTIO_BLK_F_RO");
        assertEquals(0, offered & (1L << 13 | 1L << 14), "no discard or write-zeroes on a read-only image");
        drv.negotiate(1L << 32 | 1L << 5);
        VirtioTestDriver.Ring q = drv.queue(ram, 0, 8, 0x10_0000);
        drv.driverOk();

        long header = 0x10_8000;
        long data = 0x18_0000;
        long status = 0x10_9000;
        ram.memory().set(ValueLayout.JAVA_INT_UNALIGNED, header - 0x10_0000, 1); // OUT
        ram.memory().set(ValueLayout.JAVA_LONG_UNALIGNED, header - 0x10_0000 + 8, 0L);
        q.desc(0, header, 16, 1, 1);
        q.desc(1, data, 4096, 1, 2);
        q.desc(2, status, 1, 2, 0);
        q.offer(0);
        drv.kick(0);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (q.usedIdx() != 1 && System.nanoTime() < deadline) {
            DeviceClient.await(irq[1], Duration.ofMillis(200));
        }
        assertEquals(1, q.usedIdx());
        assertEquals(1, ram.memory().get(ValueLayout.JAVA_BYTE, status - 0x10_0000), "a write is IOERR");
        assertArrayEquals(CONTENT, Files.readAllBytes(IMAGE), "the image is unchanged");

        ram.memory().set(ValueLayout.JAVA_INT_UNALIGNED, header - 0x10_0000, 0); // IN
        q.desc(1, data, 4096, 1 | 2, 2);
        q.offer(0);
        drv.kick(0);
        deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (q.usedIdx() != 2 && System.nanoTime() < deadline) {
            DeviceClient.await(irq[1], Duration.ofMillis(200));
        }
        assertEquals(0, ram.memory().get(ValueLayout.JAVA_BYTE, status - 0x10_0000), "a read is OK");
        assertArrayEquals(java.util.Arrays.copyOf(CONTENT, 4096),
                ram.memory().asSlice(data - 0x10_0000, 4096).toArray(ValueLayout.JAVA_BYTE), "and reads the image");
    }
}
