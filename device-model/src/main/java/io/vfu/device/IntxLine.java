package io.vfu.device;

/**
 * The INTx pin (INTA) and its vfio trigger. The line is level-sensitive; BAR0 INTX drives it. vfio INTx is
 * automasked: a trigger masks the index until the client UNMASKs it, so an asserted line fires once per
 * unmask and never storms. Command.Interrupt Disable blocks the trigger but not Status.Interrupt Status.
 */
final class IntxLine {

    private boolean level;
    private boolean disabled;
    private boolean vfioMasked;
    private IrqTarget target;

    boolean level() {
        return level;
    }

    boolean vfioMasked() {
        return vfioMasked;
    }

    void setLevel(boolean asserted) {
        level = asserted;
        update();
    }

    void setDisabled(boolean d) {
        disabled = d;
        update();
    }

    void setVfioMasked(boolean m) {
        vfioMasked = m;
        update();
    }

    IrqTarget swapTarget(IrqTarget t) {
        IrqTarget old = target;
        target = t;
        update();
        return old;
    }

    /** vfio TRIGGER with DATA_NONE: a loopback edge, if a target exists. */
    void loopback() {
        if (target != null) {
            target.trigger();
        }
    }

    void reset() {
        level = false;
        disabled = false;
        vfioMasked = false;
    }

    private void update() {
        // Rule: deliver only an asserted, enabled, unmasked line, then automask (vfio AUTOMASKED).
        if (level && !disabled && !vfioMasked && target != null) {
            vfioMasked = true;
            target.trigger();
        }
    }
}
