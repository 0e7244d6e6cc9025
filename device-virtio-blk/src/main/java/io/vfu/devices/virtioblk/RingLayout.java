package io.vfu.devices.virtioblk;

/**
 * Where a split virtqueue lives in guest memory and how it is used (virtio 1.2, 2.7): the descriptor table,
 * the driver (avail) ring, the device (used) ring, and the negotiated ring features.
 */
record RingLayout(int index, int size, long desc, long avail, long used, boolean eventIdx, boolean indirect) {

    /** Rule: the driver gives a power of two no larger than the device's maximum (virtio 1.2, 4.1.4.3.2). */
    static boolean validSize(int size, int max) {
        return size > 0 && size <= max && Integer.bitCount(size) == 1;
    }

    /** Rule: the three parts are aligned as 2.7 requires (16, 2 and 4 bytes). */
    boolean aligned() {
        return (desc & 15) == 0 && (avail & 1) == 0 && (used & 3) == 0;
    }
}
