package io.vfu.device.pci;

import io.vfu.device.MessageSink;

/**
 * The interrupt machinery of a PCI function in one piece: the INTA line, an MSI-X table of {@code vectors}, the
 * vector budget they draw from, the vfio interrupt layer the server drives ({@link #vfio()}), and the
 * statistics the server exports. A device routes its region accesses to {@link #msix()} and its interrupt pin
 * to {@link #intx()}, and hands {@link #vfio()} out as its {@code interrupts()}.
 */
public final class PciInterrupts {

    private final VectorBudget budget;
    private final InterruptStats stats;
    private final IntxLine intx;
    private final MsixTable msix;
    private final VfioIrqs vfio;
    private final MsiVectors msi;

    /**
     * @param vectors   MSI-X table size (1 to 2048)
     * @param pbaOffset where the PBA starts in the region that serves the table (the table at 0)
     * @param sink      where a vector without a vfio target delivers its message
     * @param exhausted told when an MSI-X append finds the budget spent (the budget is {@code vectors})
     */
    public PciInterrupts(int vectors, long pbaOffset, MessageSink sink, BudgetListener exhausted) {
        this(vectors, pbaOffset, 0, sink, exhausted);
    }

    /**
     * As the other constructor, with {@code msiVectors} MSI vectors too (0: no MSI; else 1, 2, 4, 8, 16 or 32;
     * add {@link #msiCapability} to the config space).
     */
    public PciInterrupts(int vectors, long pbaOffset, int msiVectors, MessageSink sink, BudgetListener exhausted) {
        this.budget = new VectorBudget(vectors);
        this.stats = new InterruptStats(budget);
        this.intx = new IntxLine(stats.intx());
        this.msix = new MsixTable(vectors, pbaOffset, sink, stats.msix());
        this.msi = msiVectors == 0 ? null : new MsiVectors(msiVectors);
        this.vfio = new VfioIrqs(msix, msi, intx, budget, exhausted, stats.msix());
    }

    /** The MSI vectors, or null when there are none. */
    public MsiVectors msi() {
        return msi;
    }

    /** The MSI capability for {@link #msi()} (64-bit addresses). */
    public Capability msiCapability() {
        if (msi == null) {
            throw new IllegalStateException("built without MSI vectors");
        }
        return Capability.msi(msi, true);
    }

    public IntxLine intx() {
        return intx;
    }

    public MsixTable msix() {
        return msix;
    }

    /** The vfio interrupt layer: what the device returns from {@code interrupts()}. */
    public VfioIrqs vfio() {
        return vfio;
    }

    public InterruptStats stats() {
        return stats;
    }

    /** The MSI-X capability for this table: table at {@code bir} offset 0, PBA in the same BAR. */
    public Capability msixCapability(int bir) {
        return Capability.msix(msix, bir, 0, bir, msix.pbaOffset());
    }

    /**
     * Device reset: MSI-X vectors de-assigned (their targets wait in the vfio layer's released list), table and
     * line back to power-on.
     */
    public void reset() {
        vfio.reset();
        msix.resetState();
        intx.reset();
    }
}
