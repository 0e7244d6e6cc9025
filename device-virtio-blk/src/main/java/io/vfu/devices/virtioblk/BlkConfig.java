package io.vfu.devices.virtioblk;

import io.vfu.device.pci.DwordAccess;

/**
 * struct virtio_blk_config (virtio 1.2, 5.2.4), read-only to the driver: capacity in 512-byte sectors, the
 * request limits the device enforces, and the discard and write-zeroes limits.
 */
final class BlkConfig implements DwordAccess {

    /** Bytes of virtio_blk_config up to and including the secure-erase fields. */
    static final int LENGTH = 0x48;
    /** Rule: one request moves at most this much per buffer (size_max), so a bounce buffer is bounded too. */
    static final int SIZE_MAX = 1 << 20;
    /** Discard and write-zeroes: at most this many sectors per segment (4 GiB - 512: fits 32 bits). */
    static final int MAX_DISCARD_SECTORS = 0x7F_FFFF;
    /** Discard and write-zeroes: segments per request. */
    static final int MAX_DISCARD_SEG = 1;

    private final long capacitySectors;
    private final int segMax;
    private final int queues;

    BlkConfig(long capacityBytes, int queueSize, int queues) {
        this.capacitySectors = capacityBytes / BlockBackend.SECTOR;
        // Rule: a chain without indirect descriptors holds at most the ring's size: header and status take two.
        this.segMax = queueSize - 2;
        this.queues = queues;
    }

    @Override
    public int readDword(int offset) {
        return switch (offset) {
            case 0x00 -> (int) capacitySectors;
            case 0x04 -> (int) (capacitySectors >>> 32);
            case 0x08 -> SIZE_MAX;
            case 0x0C -> segMax;
            case 0x14 -> BlockBackend.SECTOR; // blk_size
            case 0x20 -> queues << 16; // writeback 0, num_queues
            case 0x24 -> MAX_DISCARD_SECTORS;
            case 0x28 -> MAX_DISCARD_SEG;
            case 0x2C -> 1; // discard_sector_alignment: any sector
            case 0x30 -> MAX_DISCARD_SECTORS; // max_write_zeroes_sectors
            case 0x34 -> MAX_DISCARD_SEG;
            case 0x38 -> 1; // write_zeroes_may_unmap
            default -> 0; // geometry, topology, secure erase: not offered
        };
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        // Rule: every field offered here is read-only (writeback would need CONFIG_WCE, not offered).
    }
}
