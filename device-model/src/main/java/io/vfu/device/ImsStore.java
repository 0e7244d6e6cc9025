package io.vfu.device;

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
final class ImsStore implements DwordAccess {

    static final int CTRL_MASK = 1;
    static final int CTRL_ALLOCATED = 2;
    static final int CTRL_RELEASE = 4;

    private final int count;
    private final long pendingOffset;
    private final int[] entries;
    private final PendingBits pending;
    private final int[] delivered;
    private final MessageSink sink;
    private final VectorBudget budget;
    private final ErrorRegister errors;
    private final InterruptCounters stats;

    ImsStore(int count, MessageSink sink, VectorBudget budget, ErrorRegister errors, InterruptCounters stats) {
        this.count = count;
        this.pendingOffset = DeviceConfig.imsPendingOffset(count);
        this.entries = new int[4 * count];
        this.pending = new PendingBits(count);
        this.delivered = new int[count];
        this.sink = sink;
        this.budget = budget;
        this.errors = errors;
        this.stats = stats;
        reset();
    }

    int count() {
        return count;
    }

    boolean isMasked(int e) {
        return (entries[4 * e + 3] & CTRL_MASK) != 0;
    }

    boolean isAllocated(int e) {
        return (entries[4 * e + 3] & CTRL_ALLOCATED) != 0;
    }

    boolean isPending(int e) {
        return pending.get(e);
    }

    int deliveredCount(int e) {
        return delivered[e];
    }

    /** The device raises entry {@code e}. */
    void signal(int e) {
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
        delivered[e]++;
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
                errors.report(ErrorRegister.BUDGET_EXHAUSTED, ErrorRegister.SOURCE_IMS | e);
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
    void reset() {
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
        Arrays.fill(delivered, 0);
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
}
