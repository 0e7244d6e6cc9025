package io.vfu.device.memmove;

import io.vfu.device.DeviceException;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqTarget;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.InterruptCounters;
import io.vfu.device.pci.InterruptStats;
import io.vfu.device.pci.PciRegs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Model-based property test: random sequences of program, mask, unmask, function mask, enable, disable, fire,
 * append, de-assign, SET_IRQS index disable, IMS allocate/release and reset, run against the device and against a tiny reference model
 * written from the PCI rules. After every step: the delivered messages match exactly (same order, same
 * message as it reads at that moment, nothing while masked), the PBA and IMS pending bits match, the budget
 * matches, and fired == delivered + pending + coalesced + dropped + discarded-by-reset. INTx (level, automasked,
 * Interrupt Disable, target, loopback) runs in the same sequences. The {@link InterruptStats} counters of every
 * source equal the reference's tallies exactly, and satisfy signalled == deliveredDirect + latched + coalesced +
 * dropped, latched == deliveredOnUnmask + pending + discarded, and the gauges sum to BUDGET_USED.
 */
class InterruptModelTest {

    private static final int N = 8;
    private static final int M = 6;
    private static final int BUDGET = 6;

    /** A delivery: a vfio target trigger, or a posted write. */
    record Event(String target, long address, int data) {
    }

    /** Where the reference sent each signal of one source. */
    static final class Tally {
        long signalled;
        long direct;
        long latched;
        long coalesced;
        long onUnmask;
        long redelivered;
        long discarded;
        long dropped;
        long exhausted;
    }

    /** The reference: state as the PCI/vfio rules describe it, no shared code with the device. */
    static final class Ref {
        final Tally msixT = new Tally();
        final Tally imsT = new Tally();
        final Tally intxT = new Tally();
        boolean intxLevel;
        boolean intxDisabled;
        boolean intxMasked;
        boolean intxLatched;
        String intxTarget;
        boolean enabled;
        boolean functionMask;
        final boolean[] entryMask = new boolean[N];
        final boolean[] pending = new boolean[N];
        final String[] target = new String[N];
        final long[] addr = new long[N];
        final int[] data = new int[N];
        final boolean[] imsMask = new boolean[M];
        final boolean[] imsAllocated = new boolean[M];
        final boolean[] imsPending = new boolean[M];
        final long[] imsAddr = new long[M];
        final int[] imsData = new int[M];
        int used;
        long fired;
        long coalesced;
        long dropped;
        long droppedSinceReset;
        long discarded;
        final List<Event> expected = new ArrayList<>();

        Ref() {
            reset();
        }

        void reset() {
            if (intxLatched) {
                intxLatched = false;
                intxT.discarded++;
            }
            intxLevel = false;
            intxDisabled = false;
            intxMasked = false;
            for (int v = 0; v < N; v++) {
                discarded += pending[v] ? 1 : 0;
                msixT.discarded += pending[v] ? 1 : 0;
                entryMask[v] = true;
                pending[v] = false;
                target[v] = null;
                addr[v] = 0;
                data[v] = 0;
            }
            for (int e = 0; e < M; e++) {
                discarded += imsPending[e] ? 1 : 0;
                imsT.discarded += imsPending[e] ? 1 : 0;
                imsMask[e] = true;
                imsAllocated[e] = false;
                imsPending[e] = false;
                imsAddr[e] = 0;
                imsData[e] = 0;
            }
            used = 0;
            enabled = false;
            functionMask = false;
            droppedSinceReset = 0;
        }

        boolean masked(int v) {
            return !enabled || functionMask || entryMask[v];
        }

        void deliver(int v) {
            expected.add(target[v] != null ? new Event(target[v], 0, 0) : new Event(null, addr[v], data[v]));
        }

        void fire(int v) {
            fired++;
            msixT.signalled++;
            if (!enabled) {
                dropped++;
                droppedSinceReset++;
                msixT.dropped++;
            } else if (masked(v)) {
                coalesced += pending[v] ? 1 : 0;
                if (pending[v]) {
                    msixT.coalesced++;
                } else {
                    msixT.latched++;
                }
                pending[v] = true;
            } else {
                deliver(v);
                msixT.direct++;
            }
        }

        void afterMaskChange(int v, boolean was) {
            if (was && !masked(v) && pending[v]) {
                pending[v] = false;
                deliver(v);
                msixT.onUnmask++;
            }
        }

        void setEntryMask(int v, boolean m) {
            boolean was = masked(v);
            entryMask[v] = m;
            afterMaskChange(v, was);
        }

        void setControl(boolean en, boolean fm) {
            boolean[] was = new boolean[N];
            for (int v = 0; v < N; v++) {
                was[v] = masked(v);
            }
            enabled = en;
            functionMask = fm;
            for (int v = 0; v < N; v++) {
                afterMaskChange(v, was[v]);
            }
        }

        /** @return false if the budget refuses */
        boolean append(int v, String t) {
            if (target[v] == null) {
                if (used == BUDGET) {
                    msixT.exhausted++;
                    return false;
                }
                used++;
            }
            target[v] = t;
            setEntryMask(v, false);
            return true;
        }

        void deassign(int v) {
            setEntryMask(v, true);
            if (target[v] != null) {
                target[v] = null;
                used--;
            }
        }

        void fireIms(int e) {
            fired++;
            imsT.signalled++;
            if (imsMask[e]) {
                coalesced += imsPending[e] ? 1 : 0;
                if (imsPending[e]) {
                    imsT.coalesced++;
                } else {
                    imsT.latched++;
                }
                imsPending[e] = true;
            } else {
                expected.add(new Event(null, imsAddr[e], imsData[e]));
                imsT.direct++;
            }
        }

        void imsControl(int e, boolean mask, boolean release) {
            boolean was = imsMask[e];
            if (!mask && was && !imsAllocated[e]) {
                if (used == BUDGET) {
                    imsT.exhausted++;
                    return;
                }
                used++;
                imsAllocated[e] = true;
            }
            imsMask[e] = mask;
            if (was && !mask && imsPending[e]) {
                imsPending[e] = false;
                expected.add(new Event(null, imsAddr[e], imsData[e]));
                imsT.onUnmask++;
            }
            if (release && imsMask[e] && imsAllocated[e]) {
                imsAllocated[e] = false;
                used--;
            }
        }

        /** INTx as vfio sees it: level-triggered, automasked on trigger, blocked by Interrupt Disable. */
        void intxUpdate(boolean edge) {
            boolean fire = intxLevel && !intxDisabled && !intxMasked && intxTarget != null;
            intxT.signalled += edge ? 1 : 0;
            if (!fire) {
                if (edge) {
                    intxLatched = true;
                    intxT.latched++;
                }
                return;
            }
            intxMasked = true;
            expected.add(new Event(intxTarget, 0, 0));
            if (edge) {
                intxT.direct++;
            } else if (intxLatched) {
                intxLatched = false;
                intxT.onUnmask++;
            } else {
                intxT.redelivered++;
            }
        }

        void intxLevel(boolean l) {
            boolean edge = l && !intxLevel;
            if (!l && intxLatched) {
                intxLatched = false;
                intxT.discarded++;
            }
            intxLevel = l;
            intxUpdate(edge);
        }

        void intxLoopback() {
            intxT.signalled++;
            if (intxTarget != null) {
                expected.add(new Event(intxTarget, 0, 0));
                intxT.direct++;
            } else {
                intxT.dropped++;
            }
        }
    }

    @Test
    void randomSequencesAgreeWithTheReferenceModel() {
        for (int seed = 1; seed <= 300; seed++) {
            run(seed, 400);
        }
    }

    private void run(long seed, int steps) {
        List<Event> actual = new ArrayList<>();
        DeviceConfig config = DeviceConfig.defaults().withCounts(N, M, BUDGET);
        MemmoveImsDevice dev = new MemmoveImsDevice(config, (a, d) -> actual.add(new Event(null, a, d)), () -> { });
        Ref ref = new Ref();
        Random rnd = new Random(seed);
        int names = 0;
        Driver d = new Driver(dev);
        long[] intxEvents = {0};
        for (int step = 0; step < steps; step++) {
            int v = rnd.nextInt(N);
            int e = rnd.nextInt(M);
            int op = rnd.nextInt(112);
            String what;
            if (op < 8) {
                long a = 0xFEE0_0000L | (long) rnd.nextInt(1 << 12) << 12 | (rnd.nextBoolean() ? 1L << 32 : 0);
                int x = rnd.nextInt();
                d.programMsix(v, a, x);
                ref.addr[v] = a;
                ref.data[v] = x;
                what = "program " + v;
            } else if (op < 16) {
                boolean m = rnd.nextBoolean();
                d.write(RegionIndex.BAR2, 16L * v + 12, m ? 1 : 0);
                ref.setEntryMask(v, m);
                what = "entry mask " + v + "=" + m;
            } else if (op < 22) {
                boolean m = rnd.nextBoolean();
                dev.setIrqs(IrqIndex.MSIX, m ? IrqAction.MASK : IrqAction.UNMASK, v, 1, IrqData.NONE);
                ref.setEntryMask(v, m);
                what = "vfio mask " + v + "=" + m;
            } else if (op < 27) {
                boolean fm = rnd.nextBoolean();
                d.msixControl(ref.enabled, fm);
                ref.setControl(ref.enabled, fm);
                what = "function mask " + fm;
            } else if (op < 32) {
                boolean en = rnd.nextInt(4) != 0;
                d.msixControl(en, ref.functionMask);
                ref.setControl(en, ref.functionMask);
                what = "enable " + en;
            } else if (op < 55) {
                d.write(RegionIndex.BAR0, DeviceRegisters.DOORBELL_MSIX, v);
                ref.fire(v);
                what = "fire " + v;
            } else if (op < 63) {
                String name = "t" + names++;
                String old = ref.target[v];
                IrqTarget t = () -> actual.add(new Event(name, 0, 0));
                boolean ok = ref.append(v, name);
                try {
                    List<IrqTarget> dropped = dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, v, 1,
                            new IrqData.Targets(List.of(t)));
                    assertTrue(ok, "seed " + seed + " step " + step + ": append should have failed");
                    assertEquals(old == null ? 0 : 1, dropped.size(), "replaced target returned");
                } catch (DeviceException ex) {
                    assertFalse(ok, "seed " + seed + " step " + step + ": unexpected " + ex.getMessage());
                    assertEquals(DeviceException.Kind.NO_SPACE, ex.kind());
                }
                what = "append " + v + " " + name + (ok ? "" : " (refused)");
            } else if (op < 67) {
                List<IrqTarget> dropped = dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, v, 1,
                        new IrqData.Targets(List.of()));
                assertEquals(ref.target[v] == null ? 0 : 1, dropped.size());
                ref.deassign(v);
                what = "deassign " + v;
            } else if (op < 70) {
                long a = 0xFEE0_0000L | (long) rnd.nextInt(1 << 12) << 12;
                int x = rnd.nextInt();
                d.programIms(e, a, x);
                ref.imsAddr[e] = a;
                ref.imsData[e] = x;
                what = "program ims " + e;
            } else if (op < 80) {
                boolean m = rnd.nextBoolean();
                boolean r = rnd.nextInt(4) == 0;
                d.write(RegionIndex.BAR4, 16L * e + 12, (m ? 1 : 0) | (r ? 4 : 0));
                ref.imsControl(e, m, r);
                what = "ims control " + e + " mask=" + m + " release=" + r;
            } else if (op < 97) {
                d.write(RegionIndex.BAR0, DeviceRegisters.DOORBELL_IMS, e);
                ref.fireIms(e);
                what = "fire ims " + e;
            } else if (op < 98) {
                List<IrqTarget> dropped = dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 0, IrqData.NONE);
                int had = 0;
                for (int x = 0; x < N; x++) {
                    if (ref.target[x] != null) {
                        had++;
                        ref.deassign(x);
                    }
                }
                assertEquals(had, dropped.size());
                what = "disable index";
            } else if (op < 100) {
                dev.reset();
                ref.reset();
                what = "reset";
            } else if (op < 103) {
                boolean l = rnd.nextBoolean();
                d.write(RegionIndex.BAR0, DeviceRegisters.INTX, l ? 1 : 0);
                ref.intxLevel(l);
                what = "intx level " + l;
            } else if (op < 106) {
                boolean m = op == 105;
                dev.setIrqs(IrqIndex.INTX, m ? IrqAction.MASK : IrqAction.UNMASK, 0, 1, IrqData.NONE);
                ref.intxMasked = m;
                ref.intxUpdate(false);
                what = "intx vfio mask " + m;
            } else if (op < 107) {
                boolean dis = rnd.nextBoolean();
                int cmd = d.read(RegionIndex.CONFIG, PciRegs.COMMAND) & 0xFFFF & ~PciRegs.CMD_INTX_DISABLE;
                d.write(RegionIndex.CONFIG, PciRegs.COMMAND, cmd | (dis ? PciRegs.CMD_INTX_DISABLE : 0));
                ref.intxDisabled = dis;
                ref.intxUpdate(false);
                what = "intx disable " + dis;
            } else if (op < 110) {
                String name = op == 109 ? null : "x" + names++;
                IrqTarget t = name == null ? null : () -> {
                    intxEvents[0]++;
                    actual.add(new Event(name, 0, 0));
                };
                List<IrqTarget> dropped = dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1,
                        new IrqData.Targets(t == null ? List.of() : List.of(t)));
                assertEquals(ref.intxTarget == null ? 0 : 1, dropped.size(), "replaced INTx target returned");
                ref.intxTarget = name;
                ref.intxUpdate(false);
                what = "intx target " + name;
            } else {
                dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1, IrqData.NONE);
                ref.intxLoopback();
                what = "intx loopback";
            }
            String ctx = "seed " + seed + " step " + step + " after " + what;
            assertEquals(ref.expected, actual, ctx);
            long pending = 0;
            for (int x = 0; x < N; x++) {
                boolean bit = d.bit(RegionIndex.BAR2, DeviceConfig.pbaOffset(N), x);
                assertEquals(ref.pending[x], bit, ctx + ": PBA bit " + x);
                pending += bit ? 1 : 0;
            }
            for (int x = 0; x < M; x++) {
                boolean bit = d.bit(RegionIndex.BAR4, DeviceConfig.imsPendingOffset(M), x);
                assertEquals(ref.imsPending[x], bit, ctx + ": IMS pending bit " + x);
                pending += bit ? 1 : 0;
            }
            assertEquals(ref.used, d.read(RegionIndex.BAR0, DeviceRegisters.BUDGET_USED), ctx);
            assertEquals(ref.droppedSinceReset, d.read(RegionIndex.BAR0, DeviceRegisters.MSIX_DROPPED), ctx);
            assertEquals(ref.fired, actual.size() - intxEvents[0] + pending + ref.coalesced + ref.dropped
                    + ref.discarded, ctx);
            checkStats(dev.stats(), ref, ctx);
        }
    }

    private static void checkStats(InterruptStats s, Ref ref, String ctx) {
        long msixPending = 0;
        long imsPending = 0;
        int assigned = 0;
        int inUse = 0;
        for (int x = 0; x < N; x++) {
            msixPending += ref.pending[x] ? 1 : 0;
            assigned += ref.target[x] != null ? 1 : 0;
        }
        for (int x = 0; x < M; x++) {
            imsPending += ref.imsPending[x] ? 1 : 0;
            inUse += ref.imsAllocated[x] ? 1 : 0;
        }
        assertTally(ref.msixT, s.msix(), msixPending, ctx);
        assertTally(ref.imsT, s.ims(), imsPending, ctx);
        assertTally(ref.intxT, s.intx(), ref.intxLatched ? 1 : 0, ctx);
        assertEquals(assigned, s.msixAssigned(), ctx + ": MSI-X vectors holding a target");
        assertEquals(inUse, s.imsInUse(), ctx + ": IMS entries holding a unit");
        assertEquals(ref.used, s.budgetUsed(), ctx);
        assertEquals(s.budgetUsed(), s.msixAssigned() + s.imsInUse(), ctx + ": gauges sum to BUDGET_USED");
        assertEquals(BUDGET, s.budgetTotal());
        assertEquals(ref.msixT.exhausted, s.budgetExhaustedMsix(), ctx);
        assertEquals(ref.imsT.exhausted, s.budgetExhaustedIms(), ctx);
        assertEquals(s.budgetExhaustedMsix() + s.budgetExhaustedIms(), s.budgetExhausted(), ctx);
    }

    private static void assertTally(Tally t, InterruptCounters c, long pendingNow, String ctx) {
        String at = ctx + ": " + c;
        assertEquals(t.signalled, c.signalled(), at);
        assertEquals(t.direct, c.deliveredDirect(), at);
        assertEquals(t.latched, c.latched(), at);
        assertEquals(t.coalesced, c.coalesced(), at);
        assertEquals(t.onUnmask, c.deliveredOnUnmask(), at);
        assertEquals(t.redelivered, c.redelivered(), at);
        assertEquals(t.discarded, c.discarded(), at);
        assertEquals(t.dropped, c.dropped(), at);
        // The identities, on the device's own numbers.
        assertEquals(c.signalled(), c.deliveredDirect() + c.latched() + c.coalesced() + c.dropped(), at);
        assertEquals(c.latched(), c.deliveredOnUnmask() + pendingNow + c.discarded(), at);
        assertTrue(c.deliveredOnUnmask() <= c.latched(), at);
        assertEquals(c.deliveredDirect() + c.deliveredOnUnmask() + c.redelivered(), c.delivered(), at);
    }

    /** Region access over a device with a custom sink. */
    static final class Driver {
        private final MemmoveImsDevice dev;
        private final java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);

        Driver(MemmoveImsDevice dev) {
            this.dev = dev;
        }

        void write(int region, long offset, int value) {
            b.clear();
            b.putInt(0, value);
            dev.write(region, offset, b);
        }

        int read(int region, long offset) {
            b.clear();
            dev.read(region, offset, b);
            return b.getInt(0);
        }

        boolean bit(int region, long base, int i) {
            return (read(region, base + 4L * (i / 32)) & (1 << (i & 31))) != 0;
        }

        void programMsix(int v, long a, int x) {
            write(RegionIndex.BAR2, 16L * v, (int) a);
            write(RegionIndex.BAR2, 16L * v + 4, (int) (a >>> 32));
            write(RegionIndex.BAR2, 16L * v + 8, x);
        }

        void programIms(int e, long a, int x) {
            write(RegionIndex.BAR4, 16L * e, (int) a);
            write(RegionIndex.BAR4, 16L * e + 4, (int) (a >>> 32));
            write(RegionIndex.BAR4, 16L * e + 8, x);
        }

        void msixControl(boolean en, boolean fm) {
            int d = read(RegionIndex.CONFIG, ConfigLayout.MSIX) & 0x3FFF_FFFF;
            d |= (en ? PciRegs.MSIX_ENABLE : 0) << 16 | (fm ? PciRegs.MSIX_FUNCTION_MASK : 0) << 16;
            write(RegionIndex.CONFIG, ConfigLayout.MSIX, d);
        }
    }
}
