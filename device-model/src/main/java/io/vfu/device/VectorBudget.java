package io.vfu.device;

/**
 * The device-wide pool of interrupt resources, shared by MSI-X vectors and IMS entries, like the host's
 * interrupt-remapping entries. An MSI-X vector holds one unit while the vfio layer has a target assigned to it;
 * an IMS entry holds one unit from its first unmask until the guest releases it or the device resets. O(1).
 */
final class VectorBudget {

    private final int total;
    private int used;
    private long exhausted;

    VectorBudget(int total) {
        this.total = total;
    }

    /** Take one unit, or count an exhaustion and return false. */
    boolean tryAcquire() {
        if (used == total) {
            exhausted++;
            return false;
        }
        used++;
        return true;
    }

    /** Take {@code n} units at once, or none (count one exhaustion). */
    boolean tryAcquire(int n) {
        if (n > total - used) {
            exhausted++;
            return false;
        }
        used += n;
        return true;
    }

    void release() {
        if (used == 0) {
            throw new IllegalStateException("budget release without acquire");
        }
        used--;
    }

    int total() {
        return total;
    }

    int used() {
        return used;
    }

    /** How many acquisitions failed since the device was created (not cleared by reset: a health counter). */
    long exhaustedCount() {
        return exhausted;
    }
}
