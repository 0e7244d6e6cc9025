package io.vfu.device.pci;

import io.vfu.device.IrqTarget;

/**
 * The INTx pin (INTA) and its vfio trigger. The line is level-sensitive; BAR0 INTX drives it. vfio INTx is
 * automasked: a trigger masks the index until the client UNMASKs it, so an asserted line fires once per
 * unmask and never storms. Command.Interrupt Disable blocks the trigger but not Status.Interrupt Status.
 *
 * <p>Statistics: an assertion edge (or a vfio loopback) is one signal. An edge that cannot trigger at once
 * (masked, disabled, no target) is latched in the line until a trigger delivers it on unmask, or a deassert or
 * reset discards it. A trigger of a line still asserted after an earlier delivery is a redelivery.
 */
public final class IntxLine {

    private final InterruptCounters stats;
    private boolean level;
    private boolean disabled;
    private boolean vfioMasked;
    private IrqTarget target;
    /** Statistics only: an assertion edge that has not triggered yet. Never affects behaviour. */
    private boolean latched;

    public IntxLine(InterruptCounters stats) {
        this.stats = stats;
    }

    public boolean level() {
        return level;
    }

    boolean vfioMasked() {
        return vfioMasked;
    }

    public void setLevel(boolean asserted) {
        boolean edge = asserted && !level;
        if (!asserted && latched) {
            latched = false;
            stats.countDiscarded(1); // deasserted before anyone saw it
        }
        level = asserted;
        update(edge);
    }

    void setDisabled(boolean d) {
        disabled = d;
        update(false);
    }

    void setVfioMasked(boolean m) {
        vfioMasked = m;
        update(false);
    }

    IrqTarget swapTarget(IrqTarget t) {
        IrqTarget old = target;
        target = t;
        update(false);
        return old;
    }

    /** vfio TRIGGER with DATA_NONE: a loopback edge, if a target exists. */
    void loopback() {
        stats.countSignalled();
        if (target != null) {
            target.trigger();
            stats.countDeliveredDirect();
        } else {
            stats.countDropped();
        }
    }

    public void reset() {
        if (latched) {
            latched = false;
            stats.countDiscarded(1);
        }
        level = false;
        disabled = false;
        vfioMasked = false;
    }

    /** @param edge this change asserted a deasserted line (a new signal) */
    private void update(boolean edge) {
        // Rule: deliver only an asserted, enabled, unmasked line, then automask (vfio AUTOMASKED).
        boolean fire = level && !disabled && !vfioMasked && target != null;
        if (edge) {
            stats.countSignalled();
        }
        if (!fire) {
            if (edge) {
                latched = true;
                stats.countLatched();
            }
            return;
        }
        vfioMasked = true;
        target.trigger();
        if (edge) {
            stats.countDeliveredDirect();
        } else if (latched) {
            latched = false;
            stats.countDeliveredOnUnmask();
        } else {
            stats.countRedelivered();
        }
    }
}
