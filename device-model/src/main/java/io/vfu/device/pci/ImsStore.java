package io.vfu.device.pci;

import io.vfu.device.InterruptSource;
import io.vfu.device.MessageSink;

import java.util.Arrays;

/**
 * The interrupt message store in BAR4: per entry address lo, address hi, data and control, then one pending bit
 * per entry (read-only). Same rules as MSI-X, entry by entry, without an enable or function mask:
 * masked(e) = control bit 0; a signal on a masked entry sets its pending bit; the unmask funnel delivers a
 * pending entry once, as a posted write of the message as it reads at that moment.
 *
 * <p>Control register: bit 0 MASK (RW, resets to 1); bit 1 ALLOCATED (RO, the entry holds a budget unit);
 * bit 2 RELEASE (write 1 while masked to return the unit; reads 0). The first unmask of an entry allocates a
 * unit from the {@link VectorBudget}; if none is left the entry stays masked, the guest sees
 * BUDGET_EXHAUSTED in BAR0 ERROR_CODE, and the exhaustion counter rises.
 */
public final class ImsStore implements DwordAccess {

    public static final int CTRL_MASK = 1;
    public static final int CTRL_ALLOCATED = 2;
    public static final int CTRL_RELEASE = 4;

    private final int count;
    private final long pendingOffset;
    private final int[] entries;
    private final PendingBits pending;
    private final DeliveryCounts delivered;
    private final MessageSink sink;
    private final VectorBudget budget;
    private final BudgetListener exhausted;
    private final InterruptCounters stats;

    /**
     * @param count         entries
     * @param pendingOffset where the pending bits start in the region this store serves (entries start at 0): at
     *                      or after the entries' end, 8-byte aligned
     * @param sink          where an entry's message goes (a posted write)
     * @param budget        the device-wide vector budget an entry takes a unit of on its first unmask
     * @param exhausted     told when that budget is spent
     * @param stats         the IMS counters
     */
    public ImsStore(int count, long pendingOffset, MessageSink sink, VectorBudget budget, BudgetListener exhausted,
            InterruptCounters stats) {
        if (count < 1 || pendingOffset < 16L * count || (pendingOffset & 7) != 0) {
            throw new IllegalArgumentException("IMS store of " + count + " entries with pending bits at "
                    + pendingOffset);
        }
        this.count = count;
        this.pendingOffset = pendingOffset;
        this.entries = new int[4 * count];
        this.pending = new PendingBits(count);
        this.delivered = new DeliveryCounts(count);
        this.sink = sink;
        this.budget = budget;
        this.exhausted = exhausted;
        this.stats = stats;
        reset();
    }

    public int count() {
        return count;
    }

    public boolean isMasked(int e) {
        return (entries[4 * e + 3] & CTRL_MASK) != 0;
    }

    public boolean isAllocated(int e) {
        return (entries[4 * e + 3] & CTRL_ALLOCATED) != 0;
    }

    public boolean isPending(int e) {
        return pending.get(e);
    }

    public int deliveredCount(int e) {
        return delivered.get(e);
    }

    /** The device raises entry {@code e}. */
    public void signal(int e) {
        stats.countSignalled();
        if (isMasked(e)) {
            // Rule: masked latches pending, sends nothing; a second signal merges into the bit.
            if (pending.get(e)) {
                stats.countCoalesced();
            } else {
                pending.set(e);
                stats.countLatched();
            }
            return;
        }
        deliver(e);
        stats.countDeliveredDirect();
    }

    private void deliver(int e) {
        int base = 4 * e;
        long address = (entries[base] & 0xFFFFFFFFL) | ((long) entries[base + 1] << 32);
        sink.postWrite(address, entries[base + 2]); // Rule: the message as it reads now.
        delivered.increment(e);
    }

    private void maskUpdate(int e, boolean wasMasked) {
        if (wasMasked && !isMasked(e) && pending.get(e)) {
            pending.clear(e);
            deliver(e);
            stats.countDeliveredOnUnmask();
        }
    }

    private void writeControl(int e, int value) {
        int i = 4 * e + 3;
        boolean wasMasked = isMasked(e);
        boolean mask = (value & CTRL_MASK) != 0;
        if (!mask && wasMasked && !isAllocated(e)) {
            // Rule: the first unmask allocates a budget unit; without one the entry stays masked, visibly.
            if (!budget.tryAcquire()) {
                exhausted.exhausted(InterruptSource.IMS, e);
                stats.countExhausted();
                return;
            }
            entries[i] |= CTRL_ALLOCATED;
            stats.addHeld(1);
        }
        entries[i] = mask ? entries[i] | CTRL_MASK : entries[i] & ~CTRL_MASK;
        maskUpdate(e, wasMasked);
        if ((value & CTRL_RELEASE) != 0 && isMasked(e) && isAllocated(e)) {
            entries[i] &= ~CTRL_ALLOCATED;
            budget.release();
            stats.addHeld(-1);
        }
    }

    /** Reset: entries zero and masked, allocations returned to the budget, pending and counters clear. */
    public void reset() {
        for (int e = 0; e < count; e++) {
            if (isAllocated(e)) {
                budget.release();
            }
        }
        stats.clearHeld();
        Arrays.fill(entries, 0);
        for (int e = 0; e < count; e++) {
            entries[4 * e + 3] = CTRL_MASK;
        }
        stats.countDiscarded(pending.count()); // latched signals reset throws away
        pending.clearAll();
        delivered.reset();
    }

    @Override
    public int readDword(int offset) {
        if (offset < 16L * count) {
            return entries[offset >>> 2];
        }
        long p = offset - pendingOffset;
        if (p >= 0 && p < pending.byteSize()) {
            return pending.readDword((int) p);
        }
        return 0;
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        if (offset >= 16L * count) {
            return; // Rule: pending bits are read-only.
        }
        int i = offset >>> 2;
        if ((i & 3) == 3) {
            if ((mask & 0xFF) != 0) {
                writeControl(i >>> 2, value);
            }
            return;
        }
        entries[i] = (entries[i] & ~mask) | (value & mask);
    }

    /**
     * Also publishes each entry's delivery count, as a little-endian 32-bit word at {@code 4 * n} of
     * {@code counters} (shared memory the guest maps: it reads the counts with no trap). The counts are the
     * device's; anything written to {@code counters} by others is overwritten at the next delivery or reset.
     *
     * @throws IllegalArgumentException when {@code counters} holds fewer than 4 bytes per entry
     */
    public void mirrorDelivered(java.lang.foreign.MemorySegment counters) {
        delivered.mirrorTo(counters);
    }
}
