package io.vfu.device.pci;

import io.vfu.device.DeviceException;
import io.vfu.device.InterruptSource;
import io.vfu.device.Interrupts;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;

import java.util.ArrayList;
import java.util.List;

/**
 * The vfio interrupt layer (spec "VFIO_USER_DEVICE_SET_IRQS"), modelled as the host driver that owns the
 * device's real MSI-X table, as Linux's MSI-X driver does under kernel vfio-pci. QEMU emulates the guest-visible
 * table itself, so this layer is what decides where vector n goes:
 * <ul>
 * <li>TRIGGER + targets, {@code start=n, count=1}: store the target and unmask entry n (append; every other
 *     vector is untouched). A pending vector is delivered once through the new target by the mask funnel. A
 *     vector without a target takes one unit of the {@link VectorBudget}; if the budget cannot cover the whole
 *     request, nothing changes and the call fails with NO_SPACE.</li>
 * <li>TRIGGER + no targets (or a null target): de-assign: mask entry n, drop its target, return its unit.</li>
 * <li>MASK / UNMASK: set / clear the entry's mask bit through the same funnel. A vector without a target then
 *     delivers through its BAR2 message (posted write), as the host driver's own unmask would, so a client
 *     must assign a target or program the entry before unmasking it.</li>
 * <li>TRIGGER + NONE/BOOL: signal the vectors, as the device would (loopback).</li>
 * <li>TRIGGER + NONE with count 0: disable the index (de-assign every vector that has a target).</li>
 * </ul>
 * Every target the layer stops using goes back to the caller, which owns closing it: in the list a call
 * returns, or (for a reset) through {@link #takeReleased()}.
 */
public final class VfioIrqs implements Interrupts {

    private final MsixTable msix;
    private final MsiVectors msi;
    private final IntxLine intx;
    private final VectorBudget budget;
    private final BudgetListener exhausted;
    private final InterruptCounters msixStats;
    private final IrqInfo[] infos = new IrqInfo[IrqIndex.COUNT];
    private IrqTarget err;
    private IrqTarget req;
    /** Targets dropped outside {@link #set} and {@link #releaseSession}, until the server takes them. */
    private final List<IrqTarget> released = new ArrayList<>();

    public VfioIrqs(MsixTable msix, IntxLine intx, VectorBudget budget, BudgetListener exhausted, InterruptCounters msixStats) {
        this(msix, null, intx, budget, exhausted, msixStats);
    }

    /** As the other constructor, with MSI vectors ({@code msi} null: the MSI index has none). */
    public VfioIrqs(MsixTable msix, MsiVectors msi, IntxLine intx, VectorBudget budget, BudgetListener exhausted,
            InterruptCounters msixStats) {
        this.msi = msi;
        this.msix = msix;
        this.intx = intx;
        this.budget = budget;
        this.exhausted = exhausted;
        this.msixStats = msixStats;
        for (int i = 0; i < infos.length; i++) {
            infos[i] = describe(i);
        }
    }

    @Override
    public IrqInfo info(int index) {
        if (index < 0 || index >= infos.length) {
            throw DeviceException.invalid("no IRQ index " + index);
        }
        return infos[index];
    }

    private IrqInfo describe(int index) {
        return switch (index) {
            case IrqIndex.INTX -> new IrqInfo(index, 1, true, true, true, false);
            // Without an MSI capability the index exists with no vectors (as kernel vfio-pci reports it); with
            // one, its vectors are set up all at once (NORESIZE) and are not maskable through vfio.
            case IrqIndex.MSI -> new IrqInfo(index, msi == null ? 0 : msi.count(), true, false, false, true);
            // Rule: MSI-X is maskable and resizable (no NORESIZE), so vectors are appended one at a time.
            case IrqIndex.MSIX -> new IrqInfo(index, msix.size(), true, true, false, false);
            case IrqIndex.ERR, IrqIndex.REQ -> new IrqInfo(index, 1, true, false, false, true);
            default -> throw DeviceException.invalid("no IRQ index " + index);
        };
    }

    @Override
    public List<IrqTarget> set(int index, IrqAction action, long start, long count, IrqData data) {
        IrqInfo info = info(index);
        // Rule: start/count are u32 on the wire; the range must lie inside the index.
        if (start < 0 || count < 0 || start > info.count() || count > info.count() - start) {
            throw DeviceException.outOfRange("irq range " + start + "+" + count + " outside index " + index
                    + " of " + info.count());
        }
        int first = (int) start;
        int n = (int) count;
        switch (data) {
            case IrqData.Bools b when b.flags().size() != n ->
                    throw DeviceException.invalid("BOOL data has " + b.flags().size() + " entries, count " + n);
            case IrqData.Targets t when !t.targets().isEmpty() && t.targets().size() != n ->
                    throw DeviceException.invalid("EVENTFD data has " + t.targets().size() + " targets, count " + n);
            default -> { }
        }
        if (n == 0) {
            // Rule: count 0 is only meaningful as DATA_NONE|TRIGGER, which disables the index.
            if (action != IrqAction.TRIGGER || !(data instanceof IrqData.None)) {
                throw DeviceException.invalid("count 0 requires DATA_NONE|ACTION_TRIGGER");
            }
            return disable(index);
        }
        return switch (action) {
            case MASK, UNMASK -> {
                mask(index, action == IrqAction.MASK, first, n, data, info);
                yield List.of();
            }
            case TRIGGER -> switch (data) {
                case IrqData.Targets t -> assign(index, first, n, t.targets());
                case IrqData.None none -> {
                    loopback(index, first, n, null);
                    yield List.of();
                }
                case IrqData.Bools b -> {
                    loopback(index, first, n, b.flags());
                    yield List.of();
                }
            };
        };
    }

    private void mask(int index, boolean mask, int first, int n, IrqData data, IrqInfo info) {
        if (!info.maskable()) {
            throw DeviceException.invalid("IRQ index " + index + " is not maskable");
        }
        if (data instanceof IrqData.Targets) {
            throw new DeviceException(DeviceException.Kind.NOT_SUPPORTED, "eventfd-driven mask/unmask");
        }
        List<Boolean> which = data instanceof IrqData.Bools b ? b.flags() : null;
        for (int i = 0; i < n; i++) {
            if (which != null && !which.get(i)) {
                continue;
            }
            if (index == IrqIndex.INTX) {
                intx.setVfioMasked(mask);
            } else {
                msix.setEntryMask(first + i, mask);
            }
        }
    }

    private void loopback(int index, int first, int n, List<Boolean> which) {
        for (int i = 0; i < n; i++) {
            if (which != null && !which.get(i)) {
                continue;
            }
            switch (index) {
                case IrqIndex.INTX -> intx.loopback();
                case IrqIndex.MSIX -> msix.signal(first + i);
                case IrqIndex.MSI -> msi.signal(first + i);
                case IrqIndex.ERR -> fire(err);
                case IrqIndex.REQ -> fire(req);
                default -> { }
            }
        }
    }

    private static void fire(IrqTarget t) {
        if (t != null) {
            t.trigger();
        }
    }

    private List<IrqTarget> assign(int index, int first, int n, List<IrqTarget> targets) {
        List<IrqTarget> dropped = List.of();
        if (index == IrqIndex.MSI) {
            for (int i = 0; i < n; i++) {
                IrqTarget t = targets.isEmpty() ? null : targets.get(i);
                dropped = addDropped(dropped, msi.swap(first + i, t), t);
            }
            return dropped;
        }
        if (index != IrqIndex.MSIX) {
            IrqTarget t = targets.isEmpty() ? null : targets.get(0);
            IrqTarget old = switch (index) {
                case IrqIndex.INTX -> intx.swapTarget(t);
                case IrqIndex.ERR -> swapErr(t);
                default -> swapReq(t);
            };
            return addDropped(dropped, old, t);
        }
        // Rule: all or nothing. Count the units this request needs net of the ones it frees.
        int net = 0;
        int firstNeeding = -1;
        for (int i = 0; i < n; i++) {
            boolean has = msix.target(first + i) != null;
            boolean wants = !targets.isEmpty() && targets.get(i) != null;
            if (wants && !has) {
                net++;
                firstNeeding = firstNeeding < 0 ? first + i : firstNeeding;
            } else if (!wants && has) {
                net--;
            }
        }
        if (net > 0 && !budget.tryAcquire(net)) {
            exhausted.exhausted(InterruptSource.MSIX, firstNeeding);
            msixStats.countExhausted();
            throw new DeviceException(DeviceException.Kind.NO_SPACE, "vector budget exhausted ("
                    + budget.used() + "/" + budget.total() + " in use) appending MSI-X vector " + firstNeeding);
        }
        for (int i = net; i < 0; i++) {
            budget.release();
        }
        for (int i = 0; i < n; i++) {
            int v = first + i;
            IrqTarget t = targets.isEmpty() ? null : targets.get(i);
            if (t == null) {
                msix.setEntryMask(v, true); // de-assign: the host masks the entry first
                dropped = addDropped(dropped, msix.swapTarget(v, null), null);
            } else {
                dropped = addDropped(dropped, msix.swapTarget(v, t), t);
                msix.setEntryMask(v, false); // the funnel delivers a latched signal through t
            }
        }
        return dropped;
    }

    /** Add {@code old} unless it is kept; allocates the list only when something is dropped. */
    private static List<IrqTarget> addDropped(List<IrqTarget> dropped, IrqTarget old, IrqTarget replacement) {
        if (old == null || old == replacement) {
            return dropped;
        }
        if (dropped.isEmpty() && !(dropped instanceof ArrayList)) {
            return List.of(old); // the common single de-assign: one small immutable list
        }
        List<IrqTarget> list = dropped instanceof ArrayList<IrqTarget> a ? a : new ArrayList<>(dropped);
        list.add(old);
        return list;
    }

    private IrqTarget swapErr(IrqTarget t) {
        IrqTarget old = err;
        err = t;
        return old;
    }

    private IrqTarget swapReq(IrqTarget t) {
        IrqTarget old = req;
        req = t;
        return old;
    }

    private List<IrqTarget> disable(int index) {
        List<IrqTarget> dropped = new ArrayList<>();
        switch (index) {
            case IrqIndex.INTX -> {
                dropped = addDropped(dropped, intx.swapTarget(null), null);
                intx.setVfioMasked(false);
            }
            case IrqIndex.MSIX -> deassignAllMsix(dropped);
            case IrqIndex.MSI -> deassignAllMsi(dropped);
            case IrqIndex.ERR -> dropped = addDropped(dropped, swapErr(null), null);
            case IrqIndex.REQ -> dropped = addDropped(dropped, swapReq(null), null);
            default -> { }
        }
        return dropped;
    }

    /** De-assign every MSI-X vector that has a target: mask it, drop the target, return its unit. */
    void deassignAllMsix(List<IrqTarget> dropped) {
        for (int v = 0; v < msix.size(); v++) {
            if (msix.target(v) != null) {
                msix.setEntryMask(v, true);
                dropped.add(msix.swapTarget(v, null));
                budget.release();
            }
        }
    }

    private void deassignAllMsi(List<IrqTarget> dropped) {
        if (msi == null) {
            return;
        }
        for (int v = 0; v < msi.count(); v++) {
            IrqTarget t = msi.swap(v, null);
            if (t != null) {
                dropped.add(t);
            }
        }
    }

    /** Drop every session-owned target (client gone); device state stays. */
    @Override
    public List<IrqTarget> releaseSession() {
        List<IrqTarget> dropped = new ArrayList<>();
        deassignAllMsix(dropped);
        deassignAllMsi(dropped);
        dropped = addDropped(dropped, intx.swapTarget(null), null);
        intx.setVfioMasked(false);
        dropped = addDropped(dropped, swapErr(null), null);
        return addDropped(dropped, swapReq(null), null);
    }

    /**
     * Device reset: de-assign every MSI-X vector (reset clears MSI-X Enable, so the host side is torn down as the
     * client's own pre-reset disable would do); INTx, ERR and REQ targets stay. The dropped targets wait in
     * {@link #takeReleased()}.
     */
    public void reset() {
        deassignAllMsix(released);
        deassignAllMsi(released); // reset clears MSI Enable too
    }

    @Override
    public int count() {
        return IrqIndex.COUNT;
    }

    @Override
    public boolean hasReleased() {
        return !released.isEmpty();
    }

    @Override
    public List<IrqTarget> takeReleased() {
        List<IrqTarget> out = List.copyOf(released);
        released.clear();
        return out;
    }

    /** Trigger the REQ target (ask the client to release the device). */
    public boolean request() {
        if (req == null) {
            return false;
        }
        req.trigger();
        return true;
    }
}
