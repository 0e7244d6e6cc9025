package io.vfu.device.pci;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The device-wide pool of interrupt resources, shared by MSI-X vectors and IMS entries, like the host's
 * interrupt-remapping entries. An MSI-X vector holds one unit while the vfio layer has a target assigned to it;
 * an IMS entry holds one unit from its first unmask until the guest releases it or the device resets. O(1).
 * Written under the device lock with opaque stores, so {@link InterruptStats} can read it from another thread.
 */
public final class VectorBudget {

    private static final VarHandle USED;
    private static final VarHandle EXHAUSTED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            USED = l.findVarHandle(VectorBudget.class, "used", int.class);
            EXHAUSTED = l.findVarHandle(VectorBudget.class, "exhausted", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int total;
    private int used;
    private long exhausted;

    public VectorBudget(int total) {
        this.total = total;
    }

    /** Take one unit, or count an exhaustion and return false. */
    boolean tryAcquire() {
        if (used == total) {
            EXHAUSTED.setOpaque(this, exhausted + 1);
            return false;
        }
        USED.setOpaque(this, used + 1);
        return true;
    }

    /** Take {@code n} units at once, or none (count one exhaustion). */
    boolean tryAcquire(int n) {
        if (n > total - used) {
            EXHAUSTED.setOpaque(this, exhausted + 1);
            return false;
        }
        USED.setOpaque(this, used + n);
        return true;
    }

    void release() {
        if (used == 0) {
            throw new IllegalStateException("budget release without acquire");
        }
        USED.setOpaque(this, used - 1);
    }

    public int total() {
        return total;
    }

    public int used() {
        return used;
    }

    /** {@link #used()} for a reader without the device lock. */
    int usedOpaque() {
        return (int) USED.getOpaque(this);
    }

    /** {@link #exhaustedCount()} for a reader without the device lock: never torn. */
    long exhaustedOpaque() {
        return (long) EXHAUSTED.getOpaque(this);
    }

    /** How many acquisitions failed since the device was created (not cleared by reset: a health counter). */
    public long exhaustedCount() {
        return exhausted;
    }
}
