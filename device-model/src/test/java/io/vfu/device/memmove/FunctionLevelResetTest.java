package io.vfu.device.memmove;

import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.PciRegs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PCIe Function Level Reset (PCIe Base 6.6.2) as a guest's vfio-pci drives it: Linux's {@code pcie_flr} sets
 * Initiate FLR in Device Control between saving and restoring the function's config state, and QEMU forwards that
 * config write without telling anyone. The function's own state returns to power-on; the MSI-X host state (table,
 * vfio targets, Enable and Function Mask) stays, because nobody would set it up again.
 */
class FunctionLevelResetTest {

    private static final int DEVCAP = ConfigLayout.PCIE + 4;
    private static final int DEVCTL = ConfigLayout.PCIE + 8;
    /** Device Control bits 0-3: correctable, non-fatal, fatal and unsupported-request reporting enables. */
    private static final int ERROR_REPORTING = 0xF;

    private final Harness h = new Harness();

    private void initiateFlr() {
        h.cfgWrite(DEVCTL, h.cfg(DEVCTL) | PciRegs.PCIE_DEVCTL_INITIATE_FLR);
    }

    private void commandMemoryAndBusMaster() {
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER);
    }

    @Test
    void deviceCapabilitiesAdvertiseFlr() {
        assertEquals(PciRegs.PCIE_DEVCAP_FLR, h.cfg(DEVCAP) & PciRegs.PCIE_DEVCAP_FLR,
                "Linux offers reset_method flr only with DevCap bit 28");
        h.cfgWrite(DEVCAP, 0);
        assertEquals(PciRegs.PCIE_DEVCAP_FLR, h.cfg(DEVCAP) & PciRegs.PCIE_DEVCAP_FLR, "DevCap is read-only");
    }

    @Test
    void initiateFlrReadsZeroBeforeAndAfter() {
        assertEquals(0, h.cfg(DEVCTL) & PciRegs.PCIE_DEVCTL_INITIATE_FLR);
        initiateFlr();
        assertEquals(0, h.cfg(DEVCTL) & PciRegs.PCIE_DEVCTL_INITIATE_FLR, "a trigger, never stored");
    }

    @Test
    void flrResetsScratchErrorCommandBarsAndIntx() {
        commandMemoryAndBusMaster();
        h.cfgWrite(0x10, 0xFEB0_0000);
        h.bar0Write(DeviceRegisters.SCRATCH, 0x1234_5678);
        h.bar0Write(DeviceRegisters.SCRATCH + 4 * 31, -1);
        h.fireMsix(4096); // out of range: ERROR_CODE 2
        assertEquals(2, h.bar0(DeviceRegisters.ERROR_CODE));
        Harness.Target intx = new Harness.Target("intx");
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(intx)));
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertEquals(PciRegs.STATUS_INTERRUPT << 16, h.cfg(PciRegs.COMMAND) & PciRegs.STATUS_INTERRUPT << 16);

        initiateFlr();

        assertEquals(0, h.bar0(DeviceRegisters.SCRATCH));
        assertEquals(0, h.bar0(DeviceRegisters.SCRATCH + 4 * 31));
        assertEquals(0, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(0, h.bar0(DeviceRegisters.ERROR_INFO));
        assertEquals(PciRegs.STATUS_CAP_LIST << 16, h.cfg(PciRegs.COMMAND),
                "Command all off (no Memory, no Bus Master); Status: capability list only, INTx deasserted");
        assertEquals(0x4, h.cfg(0x10), "BAR0 address back to 0");
        assertEquals(0, h.bar0(DeviceRegisters.INTX));
        assertEquals(0, h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_INTX);
        assertEquals(DeviceRegisters.MAGIC, h.bar0(DeviceRegisters.ID), "the function still answers");
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertEquals(2, intx.triggers, "the INTx target stays and the line works again (unmasked by the reset)");
    }

    @Test
    void flrReturnsImsEntriesAndTheirBudgetButNotMsixVectors() {
        h.msixControl(true, false);
        Harness.Target v0 = new Harness.Target("v0");
        Harness.Target v1 = new Harness.Target("v1");
        h.assign(0, v0);
        h.assign(1, v1);
        h.programIms(3, 0xFEE0_0000L, 0x41);
        h.imsControl(3, 0);
        assertEquals(3, h.dev.budgetUsed());
        h.imsControl(5, 1);
        h.programIms(5, 0xFEE0_0000L, 0x42);
        h.fireIms(5);
        assertTrue(h.imsPendingBit(5));
        int exhausted = h.bar0(DeviceRegisters.BUDGET_EXHAUSTED);

        initiateFlr();

        assertEquals(2, h.dev.budgetUsed(), "the IMS unit came back; the two MSI-X vectors keep theirs");
        assertEquals(2, h.bar0(DeviceRegisters.BUDGET_USED));
        assertEquals(1, h.imsControl(3), "masked, not allocated");
        assertEquals(0, h.read32(RegionIndex.BAR4, 16L * 3), "entry address cleared");
        assertFalse(h.imsPendingBit(5), "pending IMS signals are discarded");
        assertEquals(0, h.bar0(DeviceRegisters.IMS_COUNTERS + 4 * 3));
        assertEquals(exhausted, h.bar0(DeviceRegisters.BUDGET_EXHAUSTED), "a health counter: survives");
        h.imsControl(5, 0);
        assertTrue(h.posted.isEmpty(), "nothing latched before the FLR is delivered after it");
    }

    @Test
    void flrDisablesTheDmaEngineAndDropsQueuedWork() {
        commandMemoryAndBusMaster();
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_LO, 0x10_0000);
        h.bar0Write(DeviceRegisters.DMA_RING_SIZE, 4);
        h.bar0Write(DeviceRegisters.DMA_CONTROL, 1);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        assertEquals(DeviceRegisters.STATUS_DMA_ENABLED | DeviceRegisters.STATUS_DMA_PENDING,
                h.bar0(DeviceRegisters.STATUS) & (DeviceRegisters.STATUS_DMA_ENABLED
                        | DeviceRegisters.STATUS_DMA_PENDING));

        initiateFlr();

        assertEquals(0, h.bar0(DeviceRegisters.STATUS) & (DeviceRegisters.STATUS_DMA_ENABLED
                | DeviceRegisters.STATUS_DMA_PENDING));
        for (int r = DeviceRegisters.DMA_RING_BASE_LO; r <= DeviceRegisters.DMA_LAST_STATUS; r += 4) {
            assertEquals(0, h.bar0(r), "DMA register 0x" + Integer.toHexString(r));
        }
        TestMemory mem = new TestMemory(0x10_0000, 0x1000);
        assertEquals(0, h.dev.dma().runPending(mem, Runnable::run), "the queued descriptor is abandoned");
    }

    @Test
    void flrKeepsMsixTargetsEnableAndDelivery() {
        commandMemoryAndBusMaster();
        h.msixControl(true, false);
        Harness.Target v0 = new Harness.Target("v0");
        Harness.Target v7 = new Harness.Target("v7");
        h.assign(0, v0);
        h.assign(7, v7);
        int msixControl = h.cfg(ConfigLayout.MSIX);

        initiateFlr();

        assertEquals(msixControl, h.cfg(ConfigLayout.MSIX), "Message Control (Enable) kept");
        assertEquals(DeviceRegisters.STATUS_MSIX_ENABLED,
                h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_MSIX_ENABLED);
        assertTrue(h.dev.interrupts().takeReleased().isEmpty(), "no target is released for the server to close");
        assertFalse(h.dev.msixMasked(0));
        assertFalse(h.dev.msixMasked(7));
        h.fireMsix(0);
        h.fireMsix(7);
        assertEquals(1, v0.triggers, "vector 0 delivers through its target after the FLR");
        assertEquals(1, v7.triggers);
        assertTrue(h.posted.isEmpty(), "no fallback to a posted write");
    }

    @Test
    void flrKeepsFunctionMaskAndItsPendingVector() {
        h.msixControl(true, true);
        Harness.Target v2 = new Harness.Target("v2");
        h.assign(2, v2);
        h.fireMsix(2);
        assertTrue(h.pbaBit(2));

        initiateFlr();

        assertEquals(PciRegs.MSIX_ENABLE | PciRegs.MSIX_FUNCTION_MASK,
                h.cfg(ConfigLayout.MSIX) >>> 16 & (PciRegs.MSIX_ENABLE | PciRegs.MSIX_FUNCTION_MASK));
        assertTrue(h.dev.msixMasked(2), "still function-masked");
        assertTrue(h.pbaBit(2), "the PBA is part of the kept MSI-X state");
        assertEquals(0, v2.triggers);
        h.msixControl(true, false);
        assertEquals(1, v2.triggers, "clearing Function Mask delivers the held vector once, as before the FLR");
        assertFalse(h.pbaBit(2));
    }

    @Test
    void deviceControlWriteWithoutInitiateFlrResetsNothing() {
        commandMemoryAndBusMaster();
        h.bar0Write(DeviceRegisters.SCRATCH, 0xCAFE);
        h.msixControl(true, false);
        Harness.Target v0 = new Harness.Target("v0");
        h.assign(0, v0);
        h.programIms(0, 0xFEE0_0000L, 0x41);
        h.imsControl(0, 0);

        h.cfgWrite(DEVCTL, ERROR_REPORTING);

        assertEquals(ERROR_REPORTING, h.cfg(DEVCTL) & 0xFFFF, "Device Control RW bits are stored");
        assertEquals(0xCAFE, h.bar0(DeviceRegisters.SCRATCH));
        assertEquals(PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER, h.cfg(PciRegs.COMMAND) & 0xFFFF);
        assertEquals(IMS_ALLOCATED, h.imsControl(0));
        assertEquals(2, h.dev.budgetUsed());

        initiateFlr();

        assertEquals(0, h.cfg(DEVCTL) & 0xFFFF, "an FLR returns Device Control to power-on too");
        assertEquals(0, h.bar0(DeviceRegisters.SCRATCH));
    }

    /** IMS control bit 1: the entry holds a vector-budget unit (unmasked, so bit 0 clear). */
    private static final int IMS_ALLOCATED = 2;
}
