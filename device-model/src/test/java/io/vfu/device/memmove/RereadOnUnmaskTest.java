package io.vfu.device.memmove;

import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.pci.ImsStore;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Delivery after unmask uses the message as it reads at that moment, exactly once (PCI 6.8.2.9). */
class RereadOnUnmaskTest {

    private final Harness h = new Harness();

    @Test
    void msixEntryUnmaskDeliversTheRewrittenMessageOnce() {
        h.msixControl(true, false);
        h.programMsix(7, 0xFEE0_0000L, 0x41);
        h.msixEntryMask(7, false);
        h.msixEntryMask(7, true);
        h.programMsix(7, 0x1_FEE0_1000L, 0x42);
        h.fireMsix(7);
        assertTrue(h.posted.isEmpty(), "masked: nothing sent");
        assertTrue(h.pbaBit(7));
        h.msixEntryMask(7, false);
        assertEquals(List.of(new Harness.Posted(0x1_FEE0_1000L, 0x42)), h.posted);
        assertFalse(h.pbaBit(7));
        h.msixEntryMask(7, false);
        assertEquals(1, h.posted.size(), "a second unmask delivers nothing more");
    }

    @Test
    void msixFunctionMaskUnmaskReReadsToo() {
        h.msixControl(true, false);
        h.programMsix(3, 0xFEE0_0000L, 0x30);
        h.msixEntryMask(3, false);
        h.fireMsix(3);
        h.msixControl(true, true);
        h.programMsix(3, 0xFEE0_2000L, 0x31);
        h.fireMsix(3);
        h.fireMsix(3);
        assertEquals(1, h.posted.size());
        assertEquals(1, (h.bar0(DeviceRegisters.STATUS) >>> 1) & 1, "STATUS shows the function mask");
        h.msixControl(true, false);
        assertEquals(List.of(new Harness.Posted(0xFEE0_0000L, 0x30), new Harness.Posted(0xFEE0_2000L, 0x31)),
                h.posted, "two fires while masked coalesce into one pending delivery of the new message");
    }

    @Test
    void msixDisabledDropsAndCounts() {
        h.programMsix(0, 0xFEE0_0000L, 1);
        h.msixEntryMask(0, false);
        h.fireMsix(0);
        assertTrue(h.posted.isEmpty());
        assertFalse(h.pbaBit(0), "disabled MSI-X does not latch (QEMU drops too)");
        assertEquals(1, h.bar0(DeviceRegisters.MSIX_DROPPED));
        h.msixControl(true, false);
        assertTrue(h.posted.isEmpty(), "enabling delivers nothing that was dropped");
    }

    @Test
    void vfioTargetPathLatchesUntilTheTargetArrivesThenTriggersOnce() {
        h.msixControl(true, false);
        h.fireMsix(5);
        assertTrue(h.pbaBit(5));
        Harness.Target t = new Harness.Target("v5");
        assertEquals(List.of(), h.assign(5, t));
        assertEquals(1, t.triggers, "latched signal delivered on target arrival");
        assertTrue(h.posted.isEmpty(), "a vector with a target never posts a write");
        assertFalse(h.pbaBit(5));
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.MASK, 5, 1, IrqData.NONE);
        h.fireMsix(5);
        assertEquals(1, t.triggers);
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.UNMASK, 5, 1, IrqData.NONE);
        assertEquals(2, t.triggers);
        assertEquals(2, h.bar0(DeviceRegisters.MSIX_COUNTERS + 4 * 5), "per-vector counter in BAR0");
    }

    @Test
    void imsEntryUnmaskDeliversTheRewrittenMessageOnce() {
        h.programIms(100, 0xFEE0_0000L, 0x51);
        h.imsControl(100, 0);
        h.imsControl(100, ImsStore.CTRL_MASK);
        h.programIms(100, 0xFEE0_3000L, 0x52);
        h.fireIms(100);
        assertTrue(h.posted.isEmpty());
        assertTrue(h.imsPendingBit(100));
        h.imsControl(100, 0);
        assertEquals(List.of(new Harness.Posted(0xFEE0_3000L, 0x52)), h.posted);
        assertFalse(h.imsPendingBit(100));
        h.imsControl(100, 0);
        assertEquals(1, h.posted.size());
        h.fireIms(100);
        assertEquals(new Harness.Posted(0xFEE0_3000L, 0x52), h.posted.get(1), "unmasked: immediate delivery");
        assertEquals(2, h.bar0(DeviceRegisters.IMS_COUNTERS + 4 * 100));
    }
}
