package io.vfu.devices.virtioblk;

/** Feature bits this device knows (virtio 1.2, 5.2.3 and 6 "Reserved Feature Bits"). */
final class VirtioFeatures {

    static final int BLK_SIZE_MAX = 1;
    static final int BLK_SEG_MAX = 2;
    static final int BLK_RO = 5;
    static final int BLK_BLK_SIZE = 6;
    static final int BLK_FLUSH = 9;
    static final int BLK_MQ = 12;
    static final int BLK_DISCARD = 13;
    static final int BLK_WRITE_ZEROES = 14;
    static final int RING_INDIRECT_DESC = 28;
    static final int RING_EVENT_IDX = 29;
    static final int VERSION_1 = 32;

    private VirtioFeatures() {
    }

    static long bit(int feature) {
        return 1L << feature;
    }

    static boolean has(long features, int feature) {
        return (features & bit(feature)) != 0;
    }

    /** What a block device on {@code backend} with {@code queues} queues offers. */
    static long offered(BlockBackend backend, int queues) {
        long f = bit(VERSION_1) | bit(RING_INDIRECT_DESC) | bit(RING_EVENT_IDX) | bit(BLK_SIZE_MAX)
                | bit(BLK_SEG_MAX) | bit(BLK_BLK_SIZE) | bit(BLK_FLUSH);
        if (queues > 1) {
            f |= bit(BLK_MQ);
        }
        // Rule: a read-only image says so, and offers nothing that changes it.
        return backend.readOnly() ? f | bit(BLK_RO) : f | bit(BLK_DISCARD) | bit(BLK_WRITE_ZEROES);
    }
}
