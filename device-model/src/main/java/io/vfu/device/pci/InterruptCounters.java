package io.vfu.device.pci;

import io.vfu.device.InterruptSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Monotonic counters of one {@link InterruptSource}, since the device was created (device reset does not clear
 * them, so they are Prometheus counters). Written only under the device lock; read from any thread.
 *
 * <p>Where every signal goes (exact when read under the device lock):
 * <pre>
 *   signalled == deliveredDirect + latched + coalesced + dropped
 *   latched   == deliveredOnUnmask + (pending bits set now) + discarded
 *   delivered == deliveredDirect + deliveredOnUnmask + redelivered
 * </pre>
 * so {@code deliveredOnUnmask <= latched} always.
 *
 * <h2>Racy reads</h2>
 * Each value is written and read with opaque access: a reader without the lock never sees a torn {@code long}
 * and never sees one counter go backwards, but different counters may be read at different moments, so the
 * identities above only hold under the lock. Increments are plain stores in order, no fences, no allocation.
 */
public final class InterruptCounters {

    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);

    private static final int SIGNALLED = 0;
    private static final int DELIVERED_DIRECT = 1;
    private static final int LATCHED = 2;
    private static final int COALESCED = 3;
    private static final int DELIVERED_ON_UNMASK = 4;
    private static final int REDELIVERED = 5;
    private static final int DISCARDED = 6;
    private static final int DROPPED = 7;
    private static final int HELD = 8;
    private static final int EXHAUSTED = 9;
    private static final int SLOTS = 10;

    private final InterruptSource source;
    private final long[] cells = new long[SLOTS];

    InterruptCounters(InterruptSource source) {
        this.source = source;
    }

    public InterruptSource source() {
        return source;
    }

    /** Fire requests: doorbells, DMA completions, vfio TRIGGER actions; for INTx, line assertions too. */
    public long signalled() {
        return get(SIGNALLED);
    }

    /** Messages (posted writes) and target triggers actually sent, for any reason. */
    public long delivered() {
        // Rule: summing per-slot monotonic reads keeps the total monotonic for a racy reader.
        return get(DELIVERED_DIRECT) + get(DELIVERED_ON_UNMASK) + get(REDELIVERED);
    }

    /** Signals delivered at once, because the source was unmasked when signalled. */
    public long deliveredDirect() {
        return get(DELIVERED_DIRECT);
    }

    /** Signals that set a pending bit (or, for INTx, were held by the asserted line) instead of delivering. */
    public long latched() {
        return get(LATCHED);
    }

    /** Signals that found their pending bit already set: they merge into the one pending delivery. */
    public long coalesced() {
        return get(COALESCED);
    }

    /** Deliveries of a latched signal when its source was unmasked or its vfio target arrived. */
    public long deliveredOnUnmask() {
        return get(DELIVERED_ON_UNMASK);
    }

    /**
     * INTx only: triggers of a line that stayed asserted after its last delivery, at the client's UNMASK (vfio
     * level-triggered semantics). Not caused by a new signal, so outside the signalled identity. 0 otherwise.
     */
    public long redelivered() {
        return get(REDELIVERED);
    }

    /** Latched signals that never delivered: pending bits cleared by device reset (INTx: line deasserted). */
    public long discarded() {
        return get(DISCARDED);
    }

    /** Signals sent nowhere: MSI-X while disabled (as QEMU's msix_notify); INTx loopback without a target. */
    public long dropped() {
        return get(DROPPED);
    }

    // ---- writers: device lock held ----

    void countSignalled() {
        add(SIGNALLED, 1);
    }

    void countDeliveredDirect() {
        add(DELIVERED_DIRECT, 1);
    }

    void countLatched() {
        add(LATCHED, 1);
    }

    void countCoalesced() {
        add(COALESCED, 1);
    }

    void countDeliveredOnUnmask() {
        add(DELIVERED_ON_UNMASK, 1);
    }

    void countRedelivered() {
        add(REDELIVERED, 1);
    }

    void countDiscarded(long n) {
        add(DISCARDED, n);
    }

    void countDropped() {
        add(DROPPED, 1);
    }

    /** Gauge: vectors holding a target (MSI-X) or a budget unit (IMS). */
    long held() {
        return get(HELD);
    }

    void addHeld(int delta) {
        add(HELD, delta);
    }

    void clearHeld() {
        CELL.setOpaque(cells, HELD, 0L);
    }

    /** Refused budget acquisitions by this source. */
    long exhausted() {
        return get(EXHAUSTED);
    }

    void countExhausted() {
        add(EXHAUSTED, 1);
    }

    private void add(int slot, long n) {
        // Rule: the only writer holds the device lock, so a plain read of its own last store is exact.
        CELL.setOpaque(cells, slot, cells[slot] + n);
    }

    private long get(int slot) {
        return (long) CELL.getOpaque(cells, slot);
    }

    @Override
    public String toString() {
        return source.label() + "{signalled=" + signalled() + ", deliveredDirect=" + deliveredDirect()
                + ", latched=" + latched() + ", coalesced=" + coalesced() + ", deliveredOnUnmask="
                + deliveredOnUnmask() + ", redelivered=" + redelivered() + ", discarded=" + discarded()
                + ", dropped=" + dropped() + "}";
    }
}
