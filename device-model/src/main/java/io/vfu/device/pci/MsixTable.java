package io.vfu.device.pci;

import io.vfu.device.IrqTarget;
import io.vfu.device.MessageSink;

import java.util.Arrays;

/**
 * The MSI-X table and PBA in BAR2, the capability's Enable/Function Mask, and the per-vector vfio targets
 * (PCI Local Bus 3.0 section 6.8.2; QEMU {@code hw/pci/msix.c} for the funnel shape).
 *
 * <p>Rules:
 * <ul>
 * <li>masked(v) = !enabled || functionMasked || entryMasked(v), derived, never stored;</li>
 * <li>every mask change records was-masked, applies the change, then calls {@link #maskUpdate}, which delivers a
 *     pending vector once when it becomes unmasked, using the entry as it reads now;</li>
 * <li>a signal while MSI-X is disabled is dropped and counted (QEMU drops it too); while enabled and masked it
 *     sets the pending bit; otherwise it is delivered at once;</li>
 * <li>delivery goes to the vector's vfio target if it has one, else as a posted write of the entry's message;</li>
 * <li>the PBA is read-only; writes to it are ignored.</li>
 * </ul>
 */
public final class MsixTable implements DwordAccess {

    private static final int CTRL_MASKED = 1;

    private final int size;
    private final long pbaOffset;
    private final int[] table;
    private final PendingBits pending;
    private final IrqTarget[] targets;
    private final DeliveryCounts delivered;
    private final MessageSink sink;
    private final InterruptCounters stats;
    private boolean enabled;
    private boolean functionMasked;
    private long dropped;

    /**
     * @param size      vectors, 1 to 2048
     * @param pbaOffset where the PBA starts in the region this table serves (the table starts at 0): at or after
     *                  the table's end, 8-byte aligned ({@link #pbaAfterTable} is the usual choice)
     * @param sink      where a vector without a vfio target delivers its message (a posted write)
     * @param stats     the MSI-X counters
     */
    public MsixTable(int size, long pbaOffset, MessageSink sink, InterruptCounters stats) {
        // Rule: the PBA lies past the table and is qword-aligned (PCI 6.8.2.4); 2048 vectors at most.
        if (size < 1 || size > 2048 || pbaOffset < 16L * size || (pbaOffset & 7) != 0) {
            throw new IllegalArgumentException("MSI-X table of " + size + " vectors with its PBA at " + pbaOffset);
        }
        this.size = size;
        this.pbaOffset = pbaOffset;
        this.table = new int[4 * size];
        this.pending = new PendingBits(size);
        this.targets = new IrqTarget[size];
        this.delivered = new DeliveryCounts(size);
        this.sink = sink;
        this.stats = stats;
        resetState();
    }

    /** The PBA offset that follows a table of {@code size} vectors, rounded up to a 4 KiB page. */
    public static long pbaAfterTable(int size) {
        return (16L * size + 4095) & ~4095L;
    }

    /** Where the PBA starts in the region this table serves. */
    public long pbaOffset() {
        return pbaOffset;
    }

    public int size() {
        return size;
    }

    public boolean isMasked(int v) {
        return !enabled || functionMasked || entryMasked(v);
    }

    boolean entryMasked(int v) {
        return (table[4 * v + 3] & CTRL_MASKED) != 0;
    }

    public boolean isPending(int v) {
        return pending.get(v);
    }

    public boolean enabled() {
        return enabled;
    }

    public boolean functionMasked() {
        return functionMasked;
    }

    public IrqTarget target(int v) {
        return targets[v];
    }

    public int deliveredCount(int v) {
        return delivered.get(v);
    }

    public long droppedCount() {
        return dropped;
    }

    /** The device raises vector {@code v} (doorbell, DMA completion, vfio TRIGGER). */
    public void signal(int v) {
        stats.countSignalled();
        if (!enabled) {
            dropped++; // Rule: disable delivers nothing (QEMU msix_notify drops it); counted, not latched.
            stats.countDropped();
            return;
        }
        if (functionMasked || entryMasked(v)) {
            // Rule: a masked vector latches pending and sends nothing; a second signal merges into the bit.
            if (pending.get(v)) {
                stats.countCoalesced();
            } else {
                pending.set(v);
                stats.countLatched();
            }
            return;
        }
        deliver(v);
        stats.countDeliveredDirect();
    }

    private void deliver(int v) {
        IrqTarget t = targets[v];
        if (t != null) {
            t.trigger();
        } else {
            // Rule: read the message now; nothing is cached across a mask.
            int base = 4 * v;
            long address = (table[base] & 0xFFFFFFFFL) | ((long) table[base + 1] << 32);
            sink.postWrite(address, table[base + 2]);
        }
        delivered.increment(v);
    }

    /** The one funnel for every mask change: deliver once if {@code v} went from masked to unmasked pending. */
    private void maskUpdate(int v, boolean wasMasked) {
        if (wasMasked && !isMasked(v) && pending.get(v)) {
            pending.clear(v);
            deliver(v);
            stats.countDeliveredOnUnmask();
        }
    }

    /** Set or clear entry {@code v}'s Vector Control mask bit (guest table write or vfio MASK/UNMASK). */
    void setEntryMask(int v, boolean mask) {
        boolean wasMasked = isMasked(v);
        int i = 4 * v + 3;
        table[i] = mask ? table[i] | CTRL_MASKED : table[i] & ~CTRL_MASKED;
        maskUpdate(v, wasMasked);
    }

    /** Message Control Enable / Function Mask changed (config-space write). */
    void setControl(boolean newEnabled, boolean newFunctionMasked) {
        boolean oldEnabled = enabled;
        boolean oldFm = functionMasked;
        enabled = newEnabled;
        functionMasked = newFunctionMasked;
        // Only pending vectors can deliver on unmask, so walk the set bits rather than the whole table.
        for (int v = pending.next(0); v >= 0; v = pending.next(v + 1)) {
            maskUpdate(v, !oldEnabled || oldFm || entryMasked(v));
        }
    }

    /** Store {@code t} as vector {@code v}'s target and return the one it replaces (null if none). */
    IrqTarget swapTarget(int v, IrqTarget t) {
        IrqTarget old = targets[v];
        targets[v] = t;
        // Gauge: vectors holding a target.
        stats.addHeld((t != null ? 1 : 0) - (old != null ? 1 : 0));
        return old;
    }

    /** Device reset: entries zero and masked, PBA clear, control clear, counters clear. Targets untouched. */
    public void resetState() {
        Arrays.fill(table, 0);
        for (int v = 0; v < size; v++) {
            table[4 * v + 3] = CTRL_MASKED; // Rule: entries reset masked.
        }
        stats.countDiscarded(pending.count()); // latched signals reset throws away
        pending.clearAll();
        delivered.reset();
        enabled = false;
        functionMasked = false;
        dropped = 0;
    }

    @Override
    public int readDword(int offset) {
        if (offset < 16L * size) {
            return table[offset >>> 2];
        }
        long p = offset - pbaOffset;
        if (p >= 0 && p < pending.byteSize()) {
            return pending.readDword((int) p);
        }
        return 0;
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        if (offset >= 16L * size) {
            return; // Rule: the PBA and the gap are read-only.
        }
        int i = offset >>> 2;
        if ((i & 3) == 3) {
            // Vector Control: only bit 0 (mask) is defined; the rest reads 0.
            if ((mask & CTRL_MASKED) != 0) {
                setEntryMask(i >>> 2, (value & CTRL_MASKED) != 0);
            }
            return;
        }
        // Rule: address/data may change at any time; a masked entry is re-read on unmask, so store only.
        table[i] = (table[i] & ~mask) | (value & mask);
    }

    /**
     * Also publishes each vector's delivery count, as a little-endian 32-bit word at {@code 4 * n} of
     * {@code counters} (shared memory the guest maps: it reads the counts with no trap). The counts are the
     * device's; anything written to {@code counters} by others is overwritten at the next delivery or reset.
     *
     * @throws IllegalArgumentException when {@code counters} holds fewer than 4 bytes per vector
     */
    public void mirrorDelivered(java.lang.foreign.MemorySegment counters) {
        delivered.mirrorTo(counters);
    }
}
