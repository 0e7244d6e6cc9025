package io.vfu.device;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The emulated PCI function: config space, BAR0 registers and DMA engine, the MSI-X table/PBA in BAR2, the IMS
 * store in BAR4, the vector budget and the vfio interrupt layer. Layout and rules: {@code device-model/LAYOUT.md}.
 *
 * <h2>Threading</h2>
 * Not thread-safe. The server serialises every call under one device lock. The only method meant to run
 * without it is {@link DmaEngine#runPending}, which re-takes the lock through a {@link DeviceLock}.
 *
 * <h2>Ownership</h2>
 * Targets handed in through {@link #setIrqs} belong to the model once the call returns normally; every target
 * the model stops using comes back in a returned list, and the server closes it. If a call throws, nothing
 * changed and the server still owns what it passed.
 *
 * <h2>Errors</h2>
 * A bad request throws {@link DeviceException}; the read/write paths allocate nothing otherwise.
 */
public final class PciFunction {

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
    private final InterruptStats stats;

    /**
     * @param config        identity and sizes
     * @param sink          posted writes (IMS delivery; MSI-X entries without a vfio target)
     * @param workAvailable called under the device lock when the DMA ring gains work; it must only schedule a
     *                      worker that calls {@code dma().runPending(...)}
     */
    public PciFunction(DeviceConfig config, MessageSink sink, Runnable workAvailable) {
        this.config = config;
        this.budget = new VectorBudget(config.vectorBudget());
        this.stats = new InterruptStats(budget);
        this.intx = new IntxLine(stats.intx());
        this.msix = new MsixTable(config.msixTableSize(), sink, stats.msix());
        this.ims = new ImsStore(config.imsEntryCount(), sink, budget, errors, stats.ims());
        this.configSpace = new ConfigSpace(config, msix, intx);
        this.dma = new DmaEngine(msix, ims, configSpace, config.dmaMaxTransfer(), workAvailable);
        this.configSpace.onBusMasterChange(dma::busMasterChanged);
        this.registers = new DeviceRegisters(msix, ims, budget, errors, intx, dma);
        this.irqs = new VfioIrqs(msix, intx, budget, errors, stats.msix());
    }

    public DeviceConfig config() {
        return config;
    }

    // ---- regions (spec "VFIO_USER_DEVICE_GET_REGION_INFO", "VFIO_USER_REGION_READ/WRITE") ----

    /** Number of regions: BAR0-5, ROM, CONFIG, VGA. */
    public int regionCount() {
        return RegionIndex.COUNT;
    }

    public RegionInfo regionInfo(int index) {
        return switch (index) {
            case RegionIndex.BAR0 -> RegionInfo.readWrite(index, config.bar0Size());
            case RegionIndex.BAR2 -> RegionInfo.readWrite(index, config.bar2Size());
            case RegionIndex.BAR4 -> RegionInfo.readWrite(index, config.bar4Size());
            case RegionIndex.CONFIG -> RegionInfo.readWrite(index, ConfigLayout.SIZE);
            // BAR1/3/5 are the upper halves of 64-bit BARs; no ROM, no VGA.
            case 1, 3, 5, RegionIndex.ROM, RegionIndex.VGA -> RegionInfo.absent(index);
            default -> throw DeviceException.invalid("no region " + index);
        };
    }

    /** Read {@code dst.remaining()} bytes of region {@code index} at {@code offset} into {@code dst}. */
    public void read(int index, long offset, ByteBuffer dst) {
        DwordAccess r = access(index, offset, dst.remaining());
        DwordAccess.read(r, (int) offset, dst);
    }

    /** Write {@code src.remaining()} bytes from {@code src} to region {@code index} at {@code offset}. */
    public void write(int index, long offset, ByteBuffer src) {
        DwordAccess r = access(index, offset, src.remaining());
        DwordAccess.write(r, (int) offset, src);
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
                r = msix;
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

    /** Number of IRQ indexes: INTx, MSI, MSI-X, ERR, REQ. */
    public int irqCount() {
        return IrqIndex.COUNT;
    }

    public IrqInfo irqInfo(int index) {
        return irqs.info(index);
    }

    /**
     * SET_IRQS without protocol types. {@code start} and {@code count} are the wire u32 values widened.
     *
     * @return the targets the model no longer uses (replaced or de-assigned); the caller closes them
     * @throws DeviceException INVALID_ARGUMENT / OUT_OF_RANGE for a malformed request, NO_SPACE when the vector
     *                         budget cannot cover an append, NOT_SUPPORTED for eventfd-driven mask/unmask
     */
    public List<IrqTarget> setIrqs(int index, IrqAction action, long start, long count, IrqData data) {
        return irqs.set(index, action, start, count, data);
    }

    /** Trigger the REQ target, asking the client to release the device; false if it has none. */
    public boolean requestRelease() {
        return irqs.request();
    }

    // ---- lifecycle ----

    /**
     * Device reset (spec "VFIO_USER_DEVICE_RESET"): config space, registers, IMS, DMA engine and MSI-X return
     * to power-on state; every MSI-X entry masked, pending bits clear; the MSI-X targets are dropped (reset
     * clears MSI-X Enable, so the host side is torn down as the client's own pre-reset disable would do).
     * INTx, ERR and REQ targets stay. The budget exhaustion counter is a health counter and survives.
     *
     * @return MSI-X targets dropped; the caller closes them
     */
    public List<IrqTarget> reset() {
        List<IrqTarget> dropped = new java.util.ArrayList<>();
        irqs.deassignAllMsix(dropped);
        configSpace.reset();
        msix.resetState();
        ims.reset();
        intx.reset();
        dma.reset();
        registers.reset();
        return dropped;
    }

    /**
     * The client went away: drop every session-owned target (MSI-X, INTx, ERR, REQ) and return them. Device
     * state (config space, tables, IMS, pending bits, DMA ring) is kept for the next client.
     */
    public List<IrqTarget> releaseSession() {
        return irqs.releaseSession();
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

    public long budgetExhaustedCount() {
        return budget.exhaustedCount();
    }

    public long msixDroppedCount() {
        return msix.droppedCount();
    }

    /** Bus Master Enable in the Command register: the server may refuse DMA while it is clear. */
    public boolean busMasterEnabled() {
        return configSpace.busMaster();
    }
}
