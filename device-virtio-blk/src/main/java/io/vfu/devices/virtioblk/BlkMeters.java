package io.vfu.devices.virtioblk;

import io.vfu.device.DeviceMeters;

/** What the device counts, exported as {@code vfu_device_virtio_blk_*_total} with the device's name. */
final class BlkMeters {

    final DeviceMeters.Counter reads;
    final DeviceMeters.Counter writes;
    final DeviceMeters.Counter readBytes;
    final DeviceMeters.Counter writtenBytes;
    final DeviceMeters.Counter flushes;
    final DeviceMeters.Counter discards;
    final DeviceMeters.Counter writeZeroes;
    final DeviceMeters.Counter errors;
    final DeviceMeters.Counter ringErrors;
    final DeviceMeters.Counter notifications;
    final DeviceMeters.Counter interrupts;

    BlkMeters(DeviceMeters m) {
        reads = m.counter("virtio_blk_reads", "Read requests completed");
        writes = m.counter("virtio_blk_writes", "Write requests completed");
        readBytes = m.counter("virtio_blk_read_bytes", "Bytes read from the image into guest memory");
        writtenBytes = m.counter("virtio_blk_written_bytes", "Bytes written from guest memory to the image");
        flushes = m.counter("virtio_blk_flushes", "Flush requests completed (fdatasync)");
        discards = m.counter("virtio_blk_discards", "Discard ranges done (holes punched)");
        writeZeroes = m.counter("virtio_blk_write_zeroes", "Write-zeroes ranges done");
        errors = m.counter("virtio_blk_request_errors", "Requests answered IOERR or UNSUPP");
        ringErrors = m.counter("virtio_blk_ring_errors",
                "Broken rings the device answered by setting NEEDS_RESET");
        notifications = m.counter("virtio_blk_notifications", "Queue notifications (kicks) from the driver");
        interrupts = m.counter("virtio_blk_interrupts", "Used-buffer interrupts raised");
    }
}
