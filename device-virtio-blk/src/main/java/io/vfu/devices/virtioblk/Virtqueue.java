package io.vfu.devices.virtioblk;

/**
 * One virtqueue: what the driver configured through the common configuration (under the device lock), and the
 * ring positions the device keeps. {@link #lastAvail} belongs to the device's worker; {@link #usedIdx} to whoever
 * holds this object's monitor (completions come from several threads).
 */
final class Virtqueue {

    final int index;
    final int maxSize;
    int size;
    int msixVector = VirtioPci.NO_VECTOR;
    boolean enabled;
    long desc;
    long driver;
    long device;
    /** Next avail slot the device will take (a free-running 16-bit index). */
    int lastAvail;
    /** Next used slot the device will fill (a free-running 16-bit index). */
    int usedIdx;
    /** A notification arrived since the worker last looked. */
    volatile boolean kicked;

    Virtqueue(int index, int maxSize) {
        this.index = index;
        this.maxSize = maxSize;
        this.size = maxSize;
    }

    /** Back to the state after a device reset (virtio 1.2, 2.4). */
    void reset() {
        size = maxSize;
        msixVector = VirtioPci.NO_VECTOR;
        enabled = false;
        desc = 0;
        driver = 0;
        device = 0;
        lastAvail = 0;
        kicked = false;
        synchronized (this) {
            usedIdx = 0;
        }
    }

    /** What the worker and completions read of this queue's set-up, fixed while it is enabled. */
    RingLayout layout(boolean eventIdx, boolean indirect) {
        return new RingLayout(index, size, desc, driver, device, eventIdx, indirect);
    }
}
