package io.vfu.device.memmove;

import io.vfu.device.DeviceException;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import io.vfu.device.pci.ImsStore;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AppendAndBudgetTest {

    @Test
    void appendingWhileOtherVectorsFireLosesNothing() {
        Harness h = new Harness();
        int n = 2048;
        h.msixControl(true, false);
        Harness.Target[] t = new Harness.Target[n];
        int[] firedAfterAssign = new int[n];
        boolean[] firedBeforeAssign = new boolean[n];
        Random rnd = new Random(7);
        for (int v = 0; v < n; v++) {
            // Fire a few random vectors, assigned or not, between appends.
            for (int k = 0; k < 4; k++) {
                int x = rnd.nextInt(n);
                h.fireMsix(x);
                if (t[x] != null) {
                    firedAfterAssign[x]++;
                } else {
                    firedBeforeAssign[x] = true;
                }
            }
            t[v] = new Harness.Target("v" + v);
            assertEquals(List.of(), h.assign(v, t[v]), "append drops nothing");
        }
        for (int v = 0; v < n; v++) {
            assertEquals(firedAfterAssign[v] + (firedBeforeAssign[v] ? 1 : 0), t[v].triggers, "vector " + v);
            assertFalse(h.pbaBit(v));
        }
        assertTrue(h.posted.isEmpty());
        assertEquals(n, h.dev.budgetUsed());
    }

    @Test
    void appendIsIrqInfoResizable() {
        IrqInfo info = new Harness().dev.irqInfo(IrqIndex.MSIX);
        assertEquals(new IrqInfo(IrqIndex.MSIX, 2048, true, true, false, false), info);
    }

    @Test
    void exhaustionFailsWithNoSpaceIsVisibleToTheGuestAndLeavesExistingVectorsWorking() {
        Harness h = new Harness(DeviceConfig.defaults().withCounts(16, 16, 4));
        h.msixControl(true, false);
        Harness.Target[] t = new Harness.Target[5];
        for (int v = 0; v < 3; v++) {
            t[v] = new Harness.Target("v" + v);
            h.assign(v, t[v]);
        }
        h.programIms(0, 0xFEE0_0000L, 9);
        h.imsControl(0, 0); // takes the 4th unit
        assertEquals(ImsStore.CTRL_ALLOCATED, h.imsControl(0));
        assertEquals(4, h.bar0(DeviceRegisters.BUDGET_USED));
        assertEquals(DeviceRegisters.STATUS_BUDGET_FULL, h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_BUDGET_FULL);

        t[3] = new Harness.Target("v3");
        DeviceException e = assertThrows(DeviceException.class, () -> h.assign(3, t[3]));
        assertEquals(DeviceException.Kind.NO_SPACE, e.kind());
        assertEquals(ErrorRegister.BUDGET_EXHAUSTED, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(3, h.bar0(DeviceRegisters.ERROR_INFO), "names MSI-X vector 3");
        assertEquals(1, h.bar0(DeviceRegisters.BUDGET_EXHAUSTED));
        h.fireMsix(3);
        assertEquals(0, t[3].triggers);
        assertTrue(h.pbaBit(3), "vector 3 has no target: its signal stays latched, not lost");

        h.programIms(1, 0xFEE0_0000L, 10);
        h.imsControl(1, 0);
        assertEquals(ImsStore.CTRL_MASK, h.imsControl(1), "IMS unmask refused: entry stays masked");
        assertEquals(ErrorRegister.SOURCE_IMS | 1, h.bar0(DeviceRegisters.ERROR_INFO));
        assertEquals(2, h.bar0(DeviceRegisters.BUDGET_EXHAUSTED));

        for (int v = 0; v < 3; v++) {
            h.fireMsix(v);
            assertEquals(1, t[v].triggers, "existing vector " + v + " still works");
        }
        h.fireIms(0);
        assertEquals(List.of(new Harness.Posted(0xFEE0_0000L, 9)), h.posted);

        h.bar0Write(DeviceRegisters.ERROR_CODE, 0);
        assertEquals(0, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(0, h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_ERROR);

        // Free one unit by releasing the IMS entry; the append now succeeds and delivers the latched signal.
        h.imsControl(0, ImsStore.CTRL_MASK | ImsStore.CTRL_RELEASE);
        assertEquals(ImsStore.CTRL_MASK, h.imsControl(0));
        assertEquals(List.of(), h.assign(3, t[3]));
        assertEquals(1, t[3].triggers);
    }

    @Test
    void multiVectorRequestIsAllOrNothing() {
        Harness h = new Harness(DeviceConfig.defaults().withCounts(16, 16, 3));
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        h.assign(0, a);
        List<IrqTarget> four = new ArrayList<>(Arrays.asList(new Harness.Target("0"), new Harness.Target("1"),
                new Harness.Target("2"), new Harness.Target("3")));
        assertThrows(DeviceException.class, () -> h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 4,
                new IrqData.Targets(four)));
        assertEquals(1, h.dev.budgetUsed());
        h.fireMsix(0);
        assertEquals(1, a.triggers, "vector 0 keeps its old target after the failed request");
        // Replacing vector 0 costs nothing; three new vectors need three units minus the one vector 0 holds.
        List<IrqTarget> dropped = h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 3,
                new IrqData.Targets(four.subList(0, 3)));
        assertEquals(List.of(a), dropped, "the replaced target comes back to be closed");
        assertEquals(3, h.dev.budgetUsed());
    }

    @Test
    void deassignOneLeavesOthersAndDisableReturnsAll() {
        Harness h = new Harness();
        h.msixControl(true, false);
        Harness.Target a = new Harness.Target("a");
        Harness.Target b = new Harness.Target("b");
        h.assign(0, a);
        h.assign(1, b);
        assertEquals(List.of(a), h.deassign(0));
        assertTrue(h.dev.msixMasked(0));
        h.fireMsix(0);
        h.fireMsix(1);
        assertEquals(0, a.triggers);
        assertEquals(1, b.triggers);
        assertEquals(1, h.dev.budgetUsed());
        assertEquals(List.of(b), h.dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 0, 0, IrqData.NONE));
        assertEquals(0, h.dev.budgetUsed());
        // QEMU's enable sends start 0, count 1 with no fd: a de-assign of a vector without a target.
        assertEquals(List.of(), h.deassign(0));
    }
}
