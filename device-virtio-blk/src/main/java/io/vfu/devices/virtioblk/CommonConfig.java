package io.vfu.devices.virtioblk;

import io.vfu.device.pci.DwordAccess;

/**
 * virtio_pci_common_cfg (virtio 1.2, 4.1.4.3): feature negotiation, device status and the queue set-up, as a
 * register file. Reads and writes come under the device lock; what a status or queue write means for the device
 * goes to its {@link Listener}.
 */
final class CommonConfig implements DwordAccess {

    /** What the device does when the driver moves it on. */
    interface Listener {
        /** The driver wrote 0 to device_status: drain and reset (virtio 1.2, 2.4.1). */
        void resetRequested();

        /** DRIVER_OK was set: queues may be processed. */
        void driverOk();

        /** The driver set up something the device cannot use: it must mark itself NEEDS_RESET. */
        void driverError(String why);
    }

    private final long offered;
    private final Virtqueue[] queues;
    private final Listener listener;
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private int configVector = VirtioPci.NO_VECTOR;
    private int status;
    private int queueSelect;
    private final int msixTableSize;

    CommonConfig(long offered, Virtqueue[] queues, int msixTableSize, Listener listener) {
        this.offered = offered;
        this.queues = queues;
        this.msixTableSize = msixTableSize;
        this.listener = listener;
    }

    /** The features both sides agreed on (valid once FEATURES_OK is set). */
    long negotiated() {
        return driverFeatures & offered;
    }

    int status() {
        return status;
    }

    /** The device sets NEEDS_RESET itself (virtio 1.2, 2.1.2). */
    void setNeedsReset() {
        status |= VirtioPci.STATUS_NEEDS_RESET;
    }

    /** DRIVER_OK is set and the driver did not give up (FAILED). */
    boolean driverOk() {
        return (status & (VirtioPci.STATUS_DRIVER_OK | VirtioPci.STATUS_FAILED)) == VirtioPci.STATUS_DRIVER_OK;
    }

    int configVector() {
        return configVector;
    }

    /** Back to the state after a reset; every queue too. */
    void reset() {
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        driverFeatures = 0;
        configVector = VirtioPci.NO_VECTOR;
        status = 0;
        queueSelect = 0;
        for (Virtqueue q : queues) {
            q.reset();
        }
    }

    private Virtqueue selected() {
        // Rule: a queue_select past the last queue reads queue_size 0 ("not available") and ignores writes.
        return queueSelect < queues.length ? queues[queueSelect] : null;
    }

    @Override
    public int readDword(int offset) {
        Virtqueue q = selected();
        return switch (offset) {
            case 0x00 -> deviceFeatureSelect;
            case 0x04 -> deviceFeatureSelect < 2 ? (int) (offered >>> (32 * deviceFeatureSelect)) : 0;
            case 0x08 -> driverFeatureSelect;
            case 0x0C -> driverFeatureSelect < 2 ? (int) (driverFeatures >>> (32 * driverFeatureSelect)) : 0;
            case 0x10 -> configVector | queues.length << 16;
            // Rule: config_generation (byte 1) stays 0: the block configuration never changes under the driver.
            case 0x14 -> status | queueSelect << 16;
            case 0x18 -> q == null ? 0 : q.size | q.msixVector << 16;
            case 0x1C -> q == null ? 0 : (q.enabled ? 1 : 0) | q.index << 16; // queue_notify_off = index
            case 0x20 -> q == null ? 0 : (int) q.desc;
            case 0x24 -> q == null ? 0 : (int) (q.desc >>> 32);
            case 0x28 -> q == null ? 0 : (int) q.driver;
            case 0x2C -> q == null ? 0 : (int) (q.driver >>> 32);
            case 0x30 -> q == null ? 0 : (int) q.device;
            case 0x34 -> q == null ? 0 : (int) (q.device >>> 32);
            case 0x38 -> q == null ? 0 : q.index; // queue_notify_data; queue_reset reads 0 (not offered)
            default -> 0;
        };
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        Virtqueue q = selected();
        switch (offset) {
            case 0x00 -> deviceFeatureSelect = merge(deviceFeatureSelect, value, mask);
            case 0x08 -> driverFeatureSelect = merge(driverFeatureSelect, value, mask);
            case 0x0C -> writeDriverFeatures(value, mask);
            case 0x10 -> {
                if ((mask & 0xFFFF) != 0) {
                    configVector = vector(merge(configVector, value, mask) & 0xFFFF);
                }
            }
            case 0x14 -> {
                if ((mask & 0xFF) != 0) {
                    writeStatus(value & 0xFF);
                }
                if ((mask & 0xFFFF_0000) != 0) {
                    queueSelect = (merge(queueSelect << 16, value, mask) >>> 16) & 0xFFFF;
                }
            }
            case 0x18 -> {
                if (q != null && (mask & 0xFFFF) != 0 && !q.enabled) {
                    q.size = merge(q.size, value, mask & 0xFFFF) & 0xFFFF;
                }
                if (q != null && (mask & 0xFFFF_0000) != 0) {
                    q.msixVector = vector(merge(q.msixVector << 16, value, mask & 0xFFFF_0000) >>> 16);
                }
            }
            case 0x1C -> {
                if (q != null && (mask & 0xFFFF) != 0 && (value & mask & 1) != 0 && !q.enabled) {
                    enable(q);
                }
            }
            case 0x20 -> setAddress(q, 0, value, mask, false);
            case 0x24 -> setAddress(q, 0, value, mask, true);
            case 0x28 -> setAddress(q, 1, value, mask, false);
            case 0x2C -> setAddress(q, 1, value, mask, true);
            case 0x30 -> setAddress(q, 2, value, mask, false);
            case 0x34 -> setAddress(q, 2, value, mask, true);
            default -> { } // read-only fields and queue_reset (VIRTIO_F_RING_RESET is not offered)
        }
    }

    private static int merge(int old, int value, int mask) {
        return (old & ~mask) | (value & mask);
    }

    /** Rule: a vector the MSI-X table does not have reads back as NO_VECTOR (virtio 1.2, 4.1.5.1.2). */
    private int vector(int v) {
        return v < msixTableSize ? v : VirtioPci.NO_VECTOR;
    }

    private void writeDriverFeatures(int value, int mask) {
        // Rule: features are fixed once FEATURES_OK is set.
        if ((status & VirtioPci.STATUS_FEATURES_OK) != 0 || driverFeatureSelect > 1) {
            return;
        }
        int shift = 32 * driverFeatureSelect;
        int old = (int) (driverFeatures >>> shift);
        long word = merge(old, value, mask) & 0xFFFF_FFFFL;
        driverFeatures = (driverFeatures & ~(0xFFFF_FFFFL << shift)) | word << shift;
    }

    private void writeStatus(int value) {
        if (value == 0) {
            listener.resetRequested();
            return;
        }
        int before = status;
        // Rule: NEEDS_RESET is the device's bit; the driver keeps what it set (it never clears a bit but by reset).
        int next = value & ~VirtioPci.STATUS_NEEDS_RESET | before & VirtioPci.STATUS_NEEDS_RESET;
        if ((next & VirtioPci.STATUS_FEATURES_OK) != 0 && (before & VirtioPci.STATUS_FEATURES_OK) == 0
                && !acceptable(driverFeatures)) {
            // Rule: the device refuses a feature set by leaving FEATURES_OK clear (virtio 1.2, 3.1.1 step 6).
            next &= ~VirtioPci.STATUS_FEATURES_OK;
        }
        status = next;
        if ((next & VirtioPci.STATUS_DRIVER_OK) != 0 && (before & VirtioPci.STATUS_DRIVER_OK) == 0) {
            listener.driverOk();
        }
    }

    /** Rule: only offered features, and VERSION_1 (this is a modern-only device). */
    private boolean acceptable(long features) {
        return (features & ~offered) == 0 && VirtioFeatures.has(features, VirtioFeatures.VERSION_1);
    }

    private void enable(Virtqueue q) {
        if (!RingLayout.validSize(q.size, q.maxSize)) {
            listener.driverError("queue " + q.index + " enabled with size " + q.size);
            return;
        }
        if (!q.layout(false, false).aligned()) {
            listener.driverError("queue " + q.index + " enabled with misaligned rings");
            return;
        }
        q.enabled = true;
        q.lastAvail = 0;
        synchronized (q) {
            q.usedIdx = 0;
        }
    }

    private static void setAddress(Virtqueue q, int which, int value, int mask, boolean high) {
        // Rule: a ring's address is fixed while the queue is enabled.
        if (q == null || q.enabled) {
            return;
        }
        int shift = high ? 32 : 0;
        long old = which == 0 ? q.desc : which == 1 ? q.driver : q.device;
        int part = merge((int) (old >>> shift), value, mask);
        long next = (old & ~(0xFFFF_FFFFL << shift)) | (part & 0xFFFF_FFFFL) << shift;
        switch (which) {
            case 0 -> q.desc = next;
            case 1 -> q.driver = next;
            default -> q.device = next;
        }
    }
}
