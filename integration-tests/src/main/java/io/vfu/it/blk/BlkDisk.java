package io.vfu.it.blk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The disk the guest gets as {@code /dev/vda}, whichever device serves it: a raw image file of {@code size} bytes,
 * the serial the device reports (virtio-blk GET_ID: at most 20 bytes) and its request queues.
 *
 * @param image the raw image file (absolute)
 * @param size its size in bytes, a multiple of 1 MiB
 * @param serial the serial, 1 to 20 printable ASCII characters without spaces (the guest reads it from the
 *        kernel command line)
 * @param queues request virtqueues the device offers; the guest uses {@code min(queues, vCPUs)} of them
 */
public record BlkDisk(Path image, long size, String serial, int queues) {
    /** virtio-blk's GET_ID answer is 20 bytes (VIRTIO_BLK_ID_BYTES). */
    public static final int MAX_SERIAL = 20;

    public BlkDisk {
        if (!image.isAbsolute()) {
            throw new IllegalArgumentException("image path must be absolute, got " + image);
        }
        if (size <= 0 || size % (1 << 20) != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 1 MiB, got " + size);
        }
        if (serial.isEmpty() || serial.length() > MAX_SERIAL || !serial.matches("[!-~]+")) {
            throw new IllegalArgumentException("serial must be 1-20 printable ASCII characters, got '" + serial + "'");
        }
        if (queues < 1) {
            throw new IllegalArgumentException("queues must be at least 1, got " + queues);
        }
    }

    /** Creates (or truncates) the image as a sparse file of {@link #size} zero bytes. */
    public BlkDisk create() throws IOException {
        Files.deleteIfExists(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        return this;
    }
}
