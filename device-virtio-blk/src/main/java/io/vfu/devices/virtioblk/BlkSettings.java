package io.vfu.devices.virtioblk;

import com.fasterxml.jackson.databind.JsonNode;
import io.vfu.device.Settings;
import java.nio.file.Path;
import java.util.Set;

/**
 * A virtio-blk device's settings: {@code {"image": "/var/lib/vm/disk.raw", "size": 1073741824, "readOnly": false,
 * "queues": 4, "queueSize": 256, "serial": "vfu-disk-0", "directIo": false}}; only {@code image} is required.
 *
 * @param image     the raw image file
 * @param size      bytes to create the image with when it does not exist (0: it must exist)
 * @param readOnly  the guest may not write (VIRTIO_BLK_F_RO), and the file is opened read-only
 * @param queues    request queues offered (VIRTIO_BLK_F_MQ); Linux uses one per vCPU up to this many
 * @param queueSize the largest ring the driver may set up, a power of two
 * @param serial    what VIRTIO_BLK_T_GET_ID answers (at most 20 bytes; Linux shows it in /sys/block/vdX/serial)
 * @param directIo  open the image with O_DIRECT (requests not aligned for it go through a second, buffered fd)
 */
record BlkSettings(Path image, long size, boolean readOnly, int queues, int queueSize, String serial,
        boolean directIo) {

    static final Set<String> KEYS = Set.of("image", "size", "readOnly", "queues", "queueSize", "serial", "directIo");
    /** Rule: the virtio-blk ID string is 20 bytes (VIRTIO_BLK_ID_BYTES). */
    static final int SERIAL_BYTES = 20;
    /** Rule: a split ring holds at most 32768 entries (virtio 1.2, 2.7). */
    static final int MAX_QUEUE_SIZE = 32768;
    /** More request queues than this buy nothing and each one costs an MSI-X vector. */
    static final int MAX_QUEUES = 64;

    BlkSettings {
        if (Integer.bitCount(queueSize) != 1 || queueSize < 2 || queueSize > MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("virtio-blk setting \"queueSize\" must be a power of two in [2, "
                    + MAX_QUEUE_SIZE + "], not " + queueSize);
        }
    }

    static BlkSettings parse(JsonNode node) {
        Settings s = Settings.of("virtio-blk", node, KEYS);
        return new BlkSettings(
                Path.of(s.requiredText("image", 4096)),
                s.integer("size", 0, 0, Long.MAX_VALUE / 2),
                s.bool("readOnly", false),
                (int) s.integer("queues", 4, 1, MAX_QUEUES),
                (int) s.integer("queueSize", 256, 2, MAX_QUEUE_SIZE),
                s.text("serial", "", SERIAL_BYTES),
                s.bool("directIo", false));
    }
}
