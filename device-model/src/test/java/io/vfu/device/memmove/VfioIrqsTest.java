package io.vfu.device.memmove;

import io.vfu.device.DeviceException;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.ImsStore;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GET_IRQ_INFO and SET_IRQS validation, reset and session release. */
class VfioIrqsTest {

    private final Harness h = new Harness();

    @Test
    void everyIndexExistsWithKernelLikeFlags() {
        assertEquals(5, h.dev.irqCount());
        assertEquals(new IrqInfo(0, 1, true, true, true, false), h.dev.irqInfo(IrqIndex.INTX));
        assertEquals(new IrqInfo(1, 0, true, false, false, true), h.dev.irqInfo(IrqIndex.MSI));
        assertEquals(new IrqInfo(3, 1, true, false, false, true), h.dev.irqInfo(IrqIndex.ERR));
        assertEquals(new IrqInfo(4, 1, true, false, false, true), h.dev.irqInfo(IrqIndex.REQ));
        assertEquals(DeviceException.Kind.INVALID_ARGUMENT,
                assertThrows(DeviceException.class, () -> h.dev.irqInfo(5)).kind());
    }

    @Test
    void malformedRequestsAreRefusedWithoutSideEffects() {
        Harness.Target t = new Harness.Target("t");
        assertKind(DeviceException.Kind.INVALID_ARGUMENT,
                () -> h.dev.setIrqs(9, IrqAction.TRIGGER, 0, 0, IrqData.NONE));
        assertKind(DeviceException.Kind.OUT_OF_RANGE,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 2048, 1, new IrqData.Targets(List.of(t))));
        assertKind(DeviceException.Kind.OUT_OF_RANGE,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 1, 0xFFFF_FFFFL, IrqData.NONE));
        assertKind(DeviceException.Kind.OUT_OF_RANGE,
                () -> h.dev.setIrqs(IrqIndex.MSI, IrqAction.TRIGGER, 0, 1, IrqData.NONE));
        assertKind(DeviceException.Kind.INVALID_ARGUMENT,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 2, new IrqData.Targets(List.of(t))));
        assertKind(DeviceException.Kind.INVALID_ARGUMENT,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.MASK, 0, 2, new IrqData.Bools(List.of(true))));
        assertKind(DeviceException.Kind.INVALID_ARGUMENT,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.MASK, 0, 0, IrqData.NONE));
        assertKind(DeviceException.Kind.INVALID_ARGUMENT,
                () -> h.dev.setIrqs(IrqIndex.ERR, IrqAction.MASK, 0, 1, IrqData.NONE));
        assertKind(DeviceException.Kind.NOT_SUPPORTED,
                () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.UNMASK, 0, 1, new IrqData.Targets(List.of(t))));
        assertEquals(0, h.dev.budgetUsed());
        assertEquals(0, t.triggers);
    }

    @Test
    void boolDataActsOnlyWhereTrue() {
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        Harness.Target b = new Harness.Target("b");
        h.assign(0, a);
        h.assign(1, b);
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.MASK, 0, 2, new IrqData.Bools(List.of(false, true)));
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 2, new IrqData.Bools(List.of(true, true)));
        assertEquals(1, a.triggers);
        assertEquals(0, b.triggers);
        assertTrue(h.dev.msixPending(1));
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.UNMASK, 0, 2, IrqData.NONE);
        assertEquals(1, b.triggers);
    }

    @Test
    void nullTargetDeassignsThatVectorOnly() {
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        Harness.Target b = new Harness.Target("b");
        h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 2, new IrqData.Targets(List.of(a, b)));
        List<IrqTarget> dropped = h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 2,
                new IrqData.Targets(Arrays.asList(null, b)));
        assertEquals(List.of(a), dropped);
        assertEquals(1, h.dev.budgetUsed());
    }

    @Test
    void resetMasksEverythingClearsPendingAndReturnsMsixTargets() {
        Harness.Target intx = new Harness.Target("intx");
        Harness.Target err = new Harness.Target("err");
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(intx)));
        h.dev.setIrqs(IrqIndex.ERR, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(err)));
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        h.assign(0, a);
        h.fireMsix(1);
        h.fireIms(2);
        h.bar0Write(DeviceRegisters.SCRATCH, 0x1234);
        h.dev.reset();
        assertEquals(List.of(a), h.dev.interrupts().takeReleased());
        assertFalse(h.pbaBit(1));
        assertFalse(h.imsPendingBit(2));
        assertEquals(0, h.cfg(ConfigLayout.MSIX) >>> 30, "Enable and Function Mask clear");
        assertEquals(1, h.read32(RegionIndex.BAR2, 12), "entry 0 masked again");
        assertEquals(0, h.bar0(DeviceRegisters.SCRATCH));
        assertEquals(0, h.dev.budgetUsed());
        assertEquals(List.of(intx, err), h.dev.releaseSession(), "INTx and ERR survive reset, not disconnect");
    }

    @Test
    void releaseSessionKeepsDeviceStateAndReturnsEveryTarget() {
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        Harness.Target req = new Harness.Target("req");
        h.assign(4, a);
        h.dev.setIrqs(IrqIndex.REQ, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(req)));
        assertTrue(h.dev.requestRelease());
        assertEquals(1, req.triggers);
        h.programIms(1, 0xFEE0_0000L, 3);
        h.imsControl(1, 0);
        h.bar0Write(DeviceRegisters.SCRATCH + 4, 77);
        assertEquals(List.of(a, req), h.dev.releaseSession());
        assertFalse(h.dev.requestRelease());
        assertEquals(77, h.bar0(DeviceRegisters.SCRATCH + 4), "device state survives the session");
        assertEquals(ImsStore.CTRL_ALLOCATED, h.imsControl(1), "guest-owned IMS entry stays allocated");
        assertEquals(1, h.dev.budgetUsed());
        assertTrue(h.dev.msixMasked(4));
        h.fireMsix(4);
        assertTrue(h.pbaBit(4), "signals after disconnect latch for the next client");
    }

    private static void assertKind(DeviceException.Kind kind, org.junit.jupiter.api.function.Executable e) {
        assertEquals(kind, assertThrows(DeviceException.class, e).kind());
    }
}
