package io.vfu.device.memmove;

import io.vfu.device.DeviceException;
import io.vfu.device.InterruptSource;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.pci.ImsStore;
import io.vfu.device.pci.InterruptCounters;
import io.vfu.device.pci.InterruptStats;
import io.vfu.device.pci.PciRegs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link InterruptStats}: what the server exports as metrics, counted where each signal goes. */
class InterruptStatsTest {

    private final Harness h = new Harness();
    private final InterruptStats s = h.dev.stats();

    /** signalled, deliveredDirect, latched, coalesced, deliveredOnUnmask, discarded, dropped. */
    private static void assertCounts(InterruptCounters c, long... want) {
        long[] got = {c.signalled(), c.deliveredDirect(), c.latched(), c.coalesced(), c.deliveredOnUnmask(),
                c.discarded(), c.dropped()};
        assertArrayEquals(want, got, c.toString());
    }

    @Test
    void msixReReadOnUnmaskCountsOneLatchThenOneDeliveryOnUnmask() {
        h.msixControl(true, false);
        h.programMsix(7, 0xFEE0_0000L, 0x41);
        h.msixEntryMask(7, false);
        h.fireMsix(7);
        assertCounts(s.msix(), 1, 1, 0, 0, 0, 0, 0);
        h.msixEntryMask(7, true);
        h.fireMsix(7);
        assertCounts(s.msix(), 2, 1, 1, 0, 0, 0, 0);
        h.msixEntryMask(7, false);
        assertCounts(s.msix(), 2, 1, 1, 0, 1, 0, 0);
        assertEquals(2, s.msix().delivered());
        assertEquals(2, h.posted.size(), "the counters agree with what left the device");
        h.msixEntryMask(7, false);
        assertEquals(1, s.msix().deliveredOnUnmask(), "a second unmask delivers and counts nothing");
    }

    @Test
    void signalsWhileMaskedCoalesceIntoOnePendingBit() {
        h.msixControl(true, true);
        h.msixEntryMask(3, false);
        h.fireMsix(3);
        h.fireMsix(3);
        h.fireMsix(3);
        assertCounts(s.msix(), 3, 0, 1, 2, 0, 0, 0);
        h.msixControl(true, false);
        assertCounts(s.msix(), 3, 0, 1, 2, 1, 0, 0);
        assertEquals(1, h.posted.size());
    }

    @Test
    void imsReReadOnUnmaskCountsOneLatchThenOneDeliveryOnUnmask() {
        h.programIms(100, 0xFEE0_0000L, 0x51);
        h.fireIms(100);
        assertCounts(s.ims(), 1, 0, 1, 0, 0, 0, 0);
        h.imsControl(100, 0);
        assertCounts(s.ims(), 1, 0, 1, 0, 1, 0, 0);
        h.fireIms(100);
        assertCounts(s.ims(), 2, 1, 1, 0, 1, 0, 0);
        assertEquals(2, s.ims().delivered());
        assertEquals(0, s.msix().signalled(), "sources are counted apart");
    }

    @Test
    void appendOfAVectorWithAPendingSignalCountsAsDeliveredOnUnmask() {
        h.msixControl(true, false);
        h.fireMsix(5);
        assertCounts(s.msix(), 1, 0, 1, 0, 0, 0, 0);
        assertEquals(0, s.msixAssigned());
        Harness.Target t = new Harness.Target("v5");
        h.assign(5, t);
        assertEquals(1, t.triggers);
        assertCounts(s.msix(), 1, 0, 1, 0, 1, 0, 0);
        assertEquals(1, s.msixAssigned());
        assertEquals(1, s.budgetUsed());
    }

    @Test
    void deassignLowersTheAssignedGaugeAndReplacingKeepsIt() {
        h.msixControl(true, false);
        h.assign(0, new Harness.Target("a"));
        h.assign(1, new Harness.Target("b"));
        assertEquals(2, s.msixAssigned());
        h.assign(1, new Harness.Target("b2"));
        assertEquals(2, s.msixAssigned(), "a replaced target is still one vector");
        h.deassign(0);
        assertEquals(1, s.msixAssigned());
        h.deassign(0);
        assertEquals(1, s.msixAssigned(), "de-assigning a vector without a target changes nothing");
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 0, IrqData.NONE);
        assertEquals(0, s.msixAssigned());
        h.assign(2, new Harness.Target("c"));
        h.dev.releaseSession();
        assertEquals(0, s.msixAssigned(), "client disconnect returns every target");
        assertEquals(0, s.budgetUsed());
    }

    @Test
    void imsReleaseLowersInUseAndResetClearsIt() {
        h.imsControl(4, 0);
        h.imsControl(9, 0);
        assertEquals(2, s.imsInUse());
        assertEquals(2, s.budgetUsed());
        h.imsControl(4, ImsStore.CTRL_MASK);
        assertEquals(2, s.imsInUse(), "masking keeps the unit");
        h.imsControl(4, ImsStore.CTRL_MASK | ImsStore.CTRL_RELEASE);
        assertEquals(1, s.imsInUse());
        assertEquals(1, s.budgetUsed());
        h.dev.reset();
        assertEquals(0, s.imsInUse());
        assertEquals(0, s.budgetUsed());
    }

    @Test
    void disabledMsixDropsAndCountsMonotonicallyAcrossReset() {
        h.msixEntryMask(0, false);
        h.fireMsix(0);
        h.fireMsix(0);
        assertCounts(s.msix(), 2, 0, 0, 0, 0, 0, 2);
        assertEquals(2, h.dev.msixDroppedCount(), "the BAR0 counter sees the same drops");
        h.dev.reset();
        assertEquals(0, h.bar0(DeviceRegisters.MSIX_DROPPED), "the register counts since reset");
        assertEquals(2, s.msix().dropped(), "the metric never goes back");
    }

    @Test
    void resetDiscardsLatchedSignalsAndCountsThem() {
        h.msixControl(true, false);
        h.fireMsix(1);
        h.fireMsix(2);
        h.fireIms(3);
        h.dev.reset();
        assertCounts(s.msix(), 2, 0, 2, 0, 0, 2, 0);
        assertCounts(s.ims(), 1, 0, 1, 0, 0, 1, 0);
        h.msixControl(true, false);
        h.msixEntryMask(1, false);
        assertEquals(0, s.msix().deliveredOnUnmask(), "nothing left to deliver");
    }

    @Test
    void budgetExhaustionIsSplitByMsixAndIms() {
        Harness small = new Harness(DeviceConfig.defaults().withCounts(16, 16, 1));
        InterruptStats st = small.dev.stats();
        assertEquals(1, st.budgetTotal());
        small.imsControl(0, 0);
        small.imsControl(1, 0); // refused: the entry stays masked
        assertThrows(DeviceException.class, () -> small.assign(0, new Harness.Target("a")));
        assertThrows(DeviceException.class, () -> small.assign(1, new Harness.Target("b")));
        assertEquals(1, st.budgetExhaustedIms());
        assertEquals(2, st.budgetExhaustedMsix());
        assertEquals(3, st.budgetExhausted());
        assertEquals(3, small.bar0(DeviceRegisters.BUDGET_EXHAUSTED));
        assertEquals(1, st.imsInUse());
        assertEquals(0, st.msixAssigned());
    }

    @Test
    void intxAssertionWithoutTargetLatchesAndDeliversWhenTheTargetArrives() {
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertCounts(s.intx(), 1, 0, 1, 0, 0, 0, 0);
        Harness.Target t = new Harness.Target("intx");
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(t)));
        assertEquals(1, t.triggers);
        assertCounts(s.intx(), 1, 0, 1, 0, 1, 0, 0);
        // Still asserted: the client's UNMASK re-triggers (level semantics) without a new signal.
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.UNMASK, 0, 1, IrqData.NONE);
        assertEquals(2, t.triggers);
        assertEquals(1, s.intx().redelivered());
        assertEquals(2, s.intx().delivered(), "one on arrival, one redelivery");
        // Deassert, then assert while unmasked: a direct delivery.
        h.bar0Write(DeviceRegisters.INTX, 0);
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.UNMASK, 0, 1, IrqData.NONE);
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertEquals(3, t.triggers);
        assertCounts(s.intx(), 2, 1, 1, 0, 1, 0, 0);
        assertEquals(3, s.intx().delivered());
    }

    @Test
    void intxDeassertedBeforeDeliveryIsDiscardedAndLoopbackWithoutTargetIsDropped() {
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_INTX_DISABLE);
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1,
                new IrqData.Targets(List.of(new Harness.Target("intx"))));
        h.bar0Write(DeviceRegisters.INTX, 1);
        h.bar0Write(DeviceRegisters.INTX, 1); // level already high: not a new signal
        h.bar0Write(DeviceRegisters.INTX, 0);
        assertCounts(s.intx(), 1, 0, 1, 0, 0, 1, 0);
        h.dev.releaseSession();
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1, IrqData.NONE);
        assertCounts(s.intx(), 2, 0, 1, 0, 0, 1, 1);
    }

    @Test
    void statsIsOneLiveView() {
        assertSame(s, h.dev.stats());
        assertSame(s.msix(), s.counters(InterruptSource.MSIX));
        assertSame(s.ims(), s.counters(InterruptSource.IMS));
        assertSame(s.intx(), s.counters(InterruptSource.INTX));
        assertEquals("msix", InterruptSource.MSIX.label());
    }

    @Test
    void aReaderWithoutTheLockSeesCountersOnlyGrow() throws InterruptedException {
        h.msixControl(true, false);
        h.assign(0, new Harness.Target("v0"));
        int fires = 200_000;
        Object lock = new Object();
        Thread writer = new Thread(() -> {
            for (int i = 0; i < fires; i++) {
                synchronized (lock) {
                    h.fireMsix(0);
                    h.msixEntryMask(0, (i & 1) == 0);
                }
            }
        });
        writer.start();
        long lastSignalled = 0;
        long lastDelivered = 0;
        while (writer.isAlive()) {
            long sig = s.msix().signalled();
            long del = s.msix().delivered();
            assertTrue(sig >= lastSignalled && del >= lastDelivered, "went back: " + sig + " " + del);
            lastSignalled = sig;
            lastDelivered = del;
        }
        writer.join();
        assertEquals(fires, s.msix().signalled());
        assertEquals(fires, s.msix().delivered() + (h.dev.msixPending(0) ? 1 : 0));
    }
}
