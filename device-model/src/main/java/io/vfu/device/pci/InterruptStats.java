package io.vfu.device.pci;

import io.vfu.device.InterruptSource;
import io.vfu.device.VfioDevice;

/**
 * Read-only interrupt statistics of one device built on the toolkit, for metrics export (the server reads them
 * from {@link io.vfu.device.VfioDevice#interruptStats()}).
 * The model keeps them with plain stores under the device lock: no allocation, no I/O, no fences on the hot
 * paths. Any thread may read them without the lock (see {@link InterruptCounters} for what a racy read
 * guarantees); a reader that holds the device lock sees every identity hold exactly, including
 * {@code budgetUsed() == msixAssigned() + imsInUse()} and
 * {@code budgetExhausted() == budgetExhaustedMsix() + budgetExhaustedIms()}.
 *
 * <p>Counters are monotonic since the device was created; device reset and client disconnect never clear
 * them (unlike BAR0 MSIX_DROPPED and the per-vector delivery registers, which count since reset).
 */
public final class InterruptStats {

    private final InterruptCounters intx = new InterruptCounters(InterruptSource.INTX);
    private final InterruptCounters msix = new InterruptCounters(InterruptSource.MSIX);
    private final InterruptCounters ims = new InterruptCounters(InterruptSource.IMS);
    private final VectorBudget budget;

    public InterruptStats(VectorBudget budget) {
        this.budget = budget;
    }

    public InterruptCounters intx() {
        return intx;
    }

    public InterruptCounters msix() {
        return msix;
    }

    public InterruptCounters ims() {
        return ims;
    }

    public InterruptCounters counters(InterruptSource source) {
        return switch (source) {
            case INTX -> intx;
            case MSIX -> msix;
            case IMS -> ims;
        };
    }

    /** Gauge: MSI-X vectors currently holding a vfio target (each holds one budget unit). */
    public long msixAssigned() {
        return msix.held();
    }

    /** Gauge: IMS entries currently holding a budget unit (control bit ALLOCATED). */
    public long imsInUse() {
        return ims.held();
    }

    /** Gauge: vector-budget units in use (BAR0 BUDGET_USED). */
    public int budgetUsed() {
        return budget.usedOpaque();
    }

    /** The vector budget's size (BAR0 BUDGET_TOTAL); constant. */
    public int budgetTotal() {
        return budget.total();
    }

    /** Refused budget acquisitions since the device was created (BAR0 BUDGET_EXHAUSTED, widened). */
    public long budgetExhausted() {
        return budget.exhaustedOpaque();
    }

    /** Refused MSI-X appends (SET_IRQS failed with NO_SPACE). */
    public long budgetExhaustedMsix() {
        return msix.exhausted();
    }

    /** Refused IMS first unmasks (the entry stayed masked). */
    public long budgetExhaustedIms() {
        return ims.exhausted();
    }

    @Override
    public String toString() {
        return "InterruptStats{" + intx + ", " + msix + ", " + ims + ", msixAssigned=" + msixAssigned()
                + ", imsInUse=" + imsInUse() + ", budget=" + budgetUsed() + "/" + budgetTotal()
                + ", exhausted=" + budgetExhausted() + "}";
    }
}
