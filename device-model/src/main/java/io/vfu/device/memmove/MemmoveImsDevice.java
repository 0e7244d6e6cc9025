package io.vfu.device.memmove;

import io.vfu.device.DeviceContext;
import io.vfu.device.DeviceException;
import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.InterruptSource;
import io.vfu.device.Interrupts;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import io.vfu.device.MessageSink;
import io.vfu.device.RegionIndex;
import io.vfu.device.RegionInfo;
import io.vfu.device.VfioDevice;
import io.vfu.device.pci.BudgetListener;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.ImsStore;
import io.vfu.device.pci.InterruptStats;
import io.vfu.device.pci.IntxLine;
import io.vfu.device.pci.MsixTable;
import io.vfu.device.pci.VectorBudget;
import io.vfu.device.pci.VfioIrqs;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The default device: a memmove (DMA copy) engine with an interrupt message store, written on the PCI toolkit.
 * Config space, BAR0 registers and DMA engine, the MSI-X table/PBA in BAR2, the IMS store in BAR4, the vector
 * budget and the vfio interrupt layer. Layout and rules: {@code device-model/LAYOUT.md}.
 *
 * <h2>Threading</h2>
 * Not thread-safe. The server serialises every call under one device lock. The only method meant to run
 * without it is {@link #work}, which re-takes the lock through a {@link DeviceLock}.
 *
 * <h2>Ownership</h2>
 * Targets handed in through {@link #setIrqs} belong to the model once the call returns normally; every target
 * the model stops using comes back in a returned list or through {@link Interrupts#takeReleased()}, and the
 * server closes it. If a call throws, nothing changed and the server still owns what it passed.
 *
 * <h2>Errors</h2>
 * A bad request throws {@link DeviceException}; the read/write paths allocate nothing otherwise.
 */
public final class MemmoveImsDevice implements VfioDevice {

    private final DeviceConfig config;
    private final VectorBudget budget;
    private final ErrorRegister errors = new ErrorRegister();
    private final IntxLine intx;
    private final MsixTable msix;
    private final ImsStore ims;
    private final ConfigSpace configSpace;
    private final DmaEngine dma;
    private final DeviceRegisters registers;
    private final VfioIrqs irqs;
    /** The read-only registers the guest maps (BAR2 after the PBA), or null where no memory is shared. */
    private SharedStatus shared;
    private long sharedBase;
    private MemorySegmentAccess sharedAccess;
    /** SET_IRQS and session ends change the budget registers: the published page follows them. */
    private final Interrupts publishingIrqs;
    private final InterruptStats stats;

    /**
     * @param config  identity and sizes
     * @param context posted writes (IMS delivery; MSI-X entries without a vfio target) and the worker that runs
     *                the DMA engine ({@link #work})
     */
    public MemmoveImsDevice(DeviceConfig config, DeviceContext context) {
        this(config, context, false);
    }

    /**
     * As {@link #MemmoveImsDevice(DeviceConfig, DeviceContext)}; with {@code publishRegisters} the registers a
     * guest polls are also published in BAR2 memory the guest maps (LAYOUT.md "Published registers"), where BAR2
     * has room and the host shares memory. QEMU 11 then sends every region write of the device synchronously.
     */
    public MemmoveImsDevice(DeviceConfig config, DeviceContext context, boolean publishRegisters) {
        this(config, context.postedWrites(), context::requestWork);
        long base = SharedStatus.base(config.msixTableSize());
        // Rule: the mapped registers need asking for, room in BAR2 and a host that shares memory; without any of
        // them the device works as before, every register trapped.
        if (publishRegisters
                && SharedStatus.end(config.msixTableSize(), config.imsEntryCount()) <= config.bar2Size()) {
            java.lang.foreign.MemorySegment bar2;
            try {
                bar2 = context.sharedMemory(RegionIndex.BAR2, config.bar2Size());
            } catch (UnsupportedOperationException e) {
                return;
            }
            this.shared = SharedStatus.publish(bar2, config.msixTableSize(), config.imsEntryCount(), registers, msix,
                    ims);
            this.sharedBase = base;
            this.sharedAccess = new MemorySegmentAccess(bar2);
            registers.sharedStatusOffset((int) base);
        }
    }

    /**
     * @param config        identity and sizes
     * @param sink          posted writes (IMS delivery; MSI-X entries without a vfio target)
     * @param workAvailable called under the device lock when the DMA ring gains work; it must only schedule a
     *                      worker that calls {@link #work}
     */
    public MemmoveImsDevice(DeviceConfig config, MessageSink sink, Runnable workAvailable) {
        this.config = config;
        this.budget = new VectorBudget(config.vectorBudget());
        this.stats = new InterruptStats(budget);
        this.intx = new IntxLine(stats.intx());
        this.msix = new MsixTable(config.msixTableSize(), DeviceConfig.pbaOffset(config.msixTableSize()), sink,
                stats.msix());
        BudgetListener exhausted = (source, index) -> errors.report(ErrorRegister.BUDGET_EXHAUSTED,
                source == InterruptSource.IMS ? ErrorRegister.SOURCE_IMS | index : index);
        this.ims = new ImsStore(config.imsEntryCount(), DeviceConfig.imsPendingOffset(config.imsEntryCount()), sink,
                budget, exhausted, stats.ims());
        this.configSpace = ConfigLayout.build(config, msix, intx, this::functionLevelReset);
        this.dma = new DmaEngine(msix, ims, configSpace, config.dmaMaxTransfer(), workAvailable);
        this.configSpace.onBusMasterChange(dma::busMasterChanged);
        this.registers = new DeviceRegisters(msix, ims, budget, errors, intx, dma);
        this.irqs = new VfioIrqs(msix, intx, budget, exhausted, stats.msix());
        this.publishingIrqs = new PublishingInterrupts(irqs, this::publish);
    }

    /** Rule: after every call that may change a published register, the status page is rewritten. */
    private void publish() {
        if (shared != null) {
            shared.refresh();
        }
    }

    public DeviceConfig config() {
        return config;
    }

    // ---- regions (spec "VFIO_USER_DEVICE_GET_REGION_INFO", "VFIO_USER_REGION_READ/WRITE") ----

    /** Number of regions: BAR0-5, ROM, CONFIG, VGA. */
    @Override
    public int regionCount() {
        return RegionIndex.COUNT;
    }

    @Override
    public RegionInfo regionInfo(int index) {
        return switch (index) {
            case RegionIndex.BAR0 -> RegionInfo.readWrite(index, config.bar0Size());
            case RegionIndex.BAR2 -> shared == null ? RegionInfo.readWrite(index, config.bar2Size())
                    : RegionInfo.readWrite(index, config.bar2Size()).withMmapAreas(List.of(new RegionInfo.Area(
                            sharedBase, SharedStatus.end(config.msixTableSize(), config.imsEntryCount()) - sharedBase)));
            case RegionIndex.BAR4 -> RegionInfo.readWrite(index, config.bar4Size());
            case RegionIndex.CONFIG -> RegionInfo.readWrite(index, ConfigLayout.SIZE);
            // BAR1/3/5 are the upper halves of 64-bit BARs; no ROM, no VGA.
            case 1, 3, 5, RegionIndex.ROM, RegionIndex.VGA -> RegionInfo.absent(index);
            default -> throw DeviceException.invalid("no region " + index);
        };
    }

    /** Read {@code dst.remaining()} bytes of region {@code index} at {@code offset} into {@code dst}. */
    @Override
    public void read(int index, long offset, ByteBuffer dst) {
        DwordAccess r = access(index, offset, dst.remaining());
        DwordAccess.read(r, (int) offset, dst);
    }

    /** Write {@code src.remaining()} bytes from {@code src} to region {@code index} at {@code offset}. */
    @Override
    public void write(int index, long offset, ByteBuffer src) {
        DwordAccess r = access(index, offset, src.remaining());
        DwordAccess.write(r, (int) offset, src);
        publish();
    }

    private DwordAccess access(int index, long offset, int length) {
        DwordAccess r;
        long size;
        switch (index) {
            case RegionIndex.BAR0 -> {
                r = registers;
                size = config.bar0Size();
            }
            case RegionIndex.BAR2 -> {
                // Rule: trapped accesses to the mapped area see the same bytes the guest maps (writes ignored).
                r = shared != null && offset >= sharedBase ? sharedAccess : msix;
                size = config.bar2Size();
            }
            case RegionIndex.BAR4 -> {
                r = ims;
                size = config.bar4Size();
            }
            case RegionIndex.CONFIG -> {
                r = configSpace;
                size = ConfigLayout.SIZE;
            }
            case 1, 3, 5, RegionIndex.ROM, RegionIndex.VGA ->
                    throw DeviceException.outOfRange("region " + index + " is absent");
            default -> throw DeviceException.invalid("no region " + index);
        }
        // Rule: bounds as offset > size - length, never offset + length > size (no overflow).
        if (offset < 0 || length > size || offset > size - length) {
            throw DeviceException.outOfRange("access " + offset + "+" + length + " outside region " + index
                    + " of size " + size);
        }
        return r;
    }

    // ---- interrupts (spec "VFIO_USER_DEVICE_GET_IRQ_INFO", "VFIO_USER_DEVICE_SET_IRQS") ----

    @Override
    public Interrupts interrupts() {
        return publishingIrqs;
    }

    /** Number of IRQ indexes: INTx, MSI, MSI-X, ERR, REQ. */
    public int irqCount() {
        return irqs.count();
    }

    public IrqInfo irqInfo(int index) {
        return irqs.info(index);
    }

    /** {@link Interrupts#set}. */
    public List<IrqTarget> setIrqs(int index, IrqAction action, long start, long count, IrqData data) {
        return publishingIrqs.set(index, action, start, count, data);
    }

    /** Trigger the REQ target, asking the client to release the device; false if it has none. */
    public boolean requestRelease() {
        return irqs.request();
    }

    // ---- lifecycle ----

    /**
     * Device reset (spec "VFIO_USER_DEVICE_RESET"): config space, registers, IMS, DMA engine and MSI-X return
     * to power-on state; every MSI-X entry masked, pending bits clear; the MSI-X targets are dropped (reset
     * clears MSI-X Enable, so the host side is torn down as the client's own pre-reset disable would do) and
     * wait in {@link Interrupts#takeReleased()}. INTx, ERR and REQ targets stay. The budget exhaustion counter
     * is a health counter and survives.
     */
    @Override
    public void reset() {
        irqs.reset();
        configSpace.reset();
        msix.resetState();
        resetFunction();
        publish();
    }

    /**
     * Function Level Reset, started by the guest through the PCI Express capability (PCIe Base 6.6.2): the
     * function's own state returns to power-on (config space, registers, IMS store, DMA engine, INTx line).
     * The MSI-X table and its vfio targets stay, with MSI-X Message Control: they are the host's, which a host
     * restores around an FLR (Linux saves and restores MSI-X state in pcie_flr's callers), and the client is
     * never told of an FLR, so it will not set them up again.
     */
    private void functionLevelReset() {
        int msixControl = configSpace.readDword(ConfigLayout.MSIX);
        configSpace.reset();
        configSpace.writeDword(ConfigLayout.MSIX, msixControl, 0xFFFF0000);
        resetFunction();
    }

    private void resetFunction() {
        ims.reset();
        intx.reset();
        dma.reset();
        registers.reset();
    }

    /** The client went away: every session-owned target comes back (see {@link Interrupts#releaseSession}). */
    public List<IrqTarget> releaseSession() {
        return publishingIrqs.releaseSession();
    }

    /** Runs the DMA engine's pending descriptors (see its threading contract). */
    @Override
    public void work(GuestMemory memory, DeviceLock lock) {
        dma.runPending(memory, publishing(lock));
    }

    /** Runs a few short descriptors at once in directly mapped memory ({@link DmaEngine#runDirect}). */
    @Override
    public boolean workDirect(GuestMemory memory, DeviceLock lock) {
        return dma.runDirect(memory, publishing(lock));
    }

    /** Rule: with published registers, every locked step of the engine ends with the published page current. */
    private DeviceLock publishing(DeviceLock lock) {
        return shared == null ? lock : action -> lock.run(() -> {
            action.run();
            publish();
        });
    }

    /** The DMA copy engine; see its threading contract. */
    public DmaEngine dma() {
        return dma;
    }

    // ---- observation (diagnostics, metrics, tests) ----

    /**
     * Interrupt statistics for metrics export. The same live view every time; safe to read from any thread
     * without the device lock (values may be stale, never torn). Identities and meanings: {@link InterruptStats}.
     */
    public InterruptStats stats() {
        return stats;
    }

    @Override
    public InterruptStats interruptStats() {
        return stats;
    }

    public boolean msixMasked(int vector) {
        return msix.isMasked(vector);
    }

    public boolean msixPending(int vector) {
        return msix.isPending(vector);
    }

    public boolean imsPending(int entry) {
        return ims.isPending(entry);
    }

    public int budgetUsed() {
        return budget.used();
    }

    public long msixDroppedCount() {
        return msix.droppedCount();
    }
}
