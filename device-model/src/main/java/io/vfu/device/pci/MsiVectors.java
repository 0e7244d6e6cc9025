package io.vfu.device.pci;

import io.vfu.device.IrqTarget;

/**
 * The vectors of an MSI capability (PCI 6.8.1), as the vfio layer drives them: the client sets them up all at
 * once (the index is NORESIZE) with one target each, and the device fires vector {@code n} with
 * {@link #signal}. The client (QEMU) emulates the capability's registers itself, so the message lives there:
 * a vector without a target has nowhere to go, and its signal is counted as dropped.
 */
public final class MsiVectors {

    private final IrqTarget[] targets;
    private long delivered;
    private long dropped;

    /** @param count vectors: 1, 2, 4, 8, 16 or 32 (Multiple Message Capable is their log2) */
    public MsiVectors(int count) {
        // Rule: MSI offers a power of two of at most 32 vectors.
        if (count < 1 || count > 32 || Integer.bitCount(count) != 1) {
            throw new IllegalArgumentException("MSI has 1, 2, 4, 8, 16 or 32 vectors: " + count);
        }
        this.targets = new IrqTarget[count];
    }

    public int count() {
        return targets.length;
    }

    /** Fires vector {@code v} (device lock held; never blocks). */
    public void signal(int v) {
        IrqTarget t = targets[v];
        if (t == null) {
            dropped++;
            return;
        }
        t.trigger();
        delivered++;
    }

    /** Signals that reached a target. */
    public long delivered() {
        return delivered;
    }

    /** Signals of a vector without a target. */
    public long dropped() {
        return dropped;
    }

    IrqTarget swap(int v, IrqTarget t) {
        IrqTarget old = targets[v];
        targets[v] = t;
        return old;
    }
}
