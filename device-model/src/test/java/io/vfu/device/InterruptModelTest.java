package io.vfu.device;

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
 * matches, and fired == delivered + pending + coalesced + dropped + discarded-by-reset.
 */
class InterruptModelTest {

    private static final int N = 8;
    private static final int M = 6;
    private static final int BUDGET = 6;

    /** A delivery: a vfio target trigger, or a posted write. */
    record Event(String target, long address, int data) {
    }

    /** The reference: state as the PCI/vfio rules describe it, no shared code with the device. */
    static final class Ref {
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
            for (int v = 0; v < N; v++) {
                discarded += pending[v] ? 1 : 0;
                entryMask[v] = true;
                pending[v] = false;
                target[v] = null;
                addr[v] = 0;
                data[v] = 0;
            }
            for (int e = 0; e < M; e++) {
                discarded += imsPending[e] ? 1 : 0;
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
            if (!enabled) {
                dropped++;
                droppedSinceReset++;
            } else if (masked(v)) {
                coalesced += pending[v] ? 1 : 0;
                pending[v] = true;
            } else {
                deliver(v);
            }
        }

        void afterMaskChange(int v, boolean was) {
            if (was && !masked(v) && pending[v]) {
                pending[v] = false;
                deliver(v);
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
            if (imsMask[e]) {
                coalesced += imsPending[e] ? 1 : 0;
                imsPending[e] = true;
            } else {
                expected.add(new Event(null, imsAddr[e], imsData[e]));
            }
        }

        void imsControl(int e, boolean mask, boolean release) {
            boolean was = imsMask[e];
            if (!mask && was && !imsAllocated[e]) {
                if (used == BUDGET) {
                    return;
                }
                used++;
                imsAllocated[e] = true;
            }
            imsMask[e] = mask;
            if (was && !mask && imsPending[e]) {
                imsPending[e] = false;
                expected.add(new Event(null, imsAddr[e], imsData[e]));
            }
            if (release && imsMask[e] && imsAllocated[e]) {
                imsAllocated[e] = false;
                used--;
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
        PciFunction dev = new PciFunction(config, (a, d) -> actual.add(new Event(null, a, d)), () -> { });
        Ref ref = new Ref();
        Random rnd = new Random(seed);
        int names = 0;
        Driver d = new Driver(dev);
        for (int step = 0; step < steps; step++) {
            int v = rnd.nextInt(N);
            int e = rnd.nextInt(M);
            int op = rnd.nextInt(100);
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
            } else {
                dev.reset();
                ref.reset();
                what = "reset";
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
            assertEquals(ref.fired, actual.size() + pending + ref.coalesced + ref.dropped + ref.discarded, ctx);
        }
    }

    /** Region access over a device with a custom sink. */
    static final class Driver {
        private final PciFunction dev;
        private final java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);

        Driver(PciFunction dev) {
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
            d |= (en ? ConfigLayout.MSIX_ENABLE : 0) << 16 | (fm ? ConfigLayout.MSIX_FUNCTION_MASK : 0) << 16;
            write(RegionIndex.CONFIG, ConfigLayout.MSIX, d);
        }
    }
}
