package io.vfu.device.memmove;

import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.PciRegs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigSpaceTest {

    private final Harness h = new Harness();

    @Test
    void headerDwordsMatchTheDefaultIdentity() {
        assertEquals(0x0001_1B5A, h.cfg(0x00), "device 0x0001, vendor 0x1B5A");
        assertEquals(0x0010_0000, h.cfg(0x04), "Status: capabilities list only; Command: all off");
        assertEquals(0x0880_0001, h.cfg(0x08), "class 08/80/00, revision 1");
        assertEquals(0x0000_0000, h.cfg(0x0C), "header type 0, single function");
        assertEquals(0x0000_0004, h.cfg(0x10), "BAR0: 64-bit memory, not prefetchable");
        assertEquals(0x0000_0000, h.cfg(0x14));
        assertEquals(0x0000_0004, h.cfg(0x18));
        assertEquals(0x0000_0004, h.cfg(0x20));
        assertEquals(0x0001_1B5A, h.cfg(0x2C), "subsystem defaults to the device identity");
        assertEquals(0x0000_0000, h.cfg(0x30), "no expansion ROM");
        assertEquals(0x0000_0040, h.cfg(0x34));
        assertEquals(0x0000_0100, h.cfg(0x3C), "Interrupt Pin INTA, line 0");
        assertEquals(0, h.cfg(0x100), "no extended capabilities");
    }

    @Test
    void configuredIdentityIsReported() {
        DeviceConfig c = new DeviceConfig(0x1234, 0xABCD, 0x5678, 0x9ABC, 0x7F, 0x120000, 64, 128, 100,
                DeviceConfig.minBar0Size(128), 1 << 20, DeviceConfig.minBar4Size(128), 4096);
        Harness x = new Harness(c);
        assertEquals(0xABCD_1234, x.cfg(0x00));
        assertEquals(0x1200_007F, x.cfg(0x08));
        assertEquals(0x9ABC_5678, x.cfg(0x2C));
        assertEquals(63, (x.cfg(ConfigLayout.MSIX) >>> 16) & 0x7FF);
        x.cfgWrite(0x18, -1);
        assertEquals(0xFFF0_0004, x.cfg(0x18), "1 MiB BAR2");
    }

    @Test
    void sixtyFourBitBarSizingReturnsSizeMaskAndKeepsTypeBits() {
        long[] sizes = {h.dev.config().bar0Size(), h.dev.config().bar2Size(), h.dev.config().bar4Size()};
        for (int i = 0; i < 3; i++) {
            int bar = 0x10 + 8 * i;
            h.cfgWrite(bar, 0xFFFF_FFFF);
            h.cfgWrite(bar + 4, 0xFFFF_FFFF);
            assertEquals((int) ~(sizes[i] - 1) & ~0xF | 0x4, h.cfg(bar), "low dword: size mask | 64-bit type");
            assertEquals(0xFFFF_FFFF, h.cfg(bar + 4), "high dword: all address bits (size < 4 GiB)");
            h.cfgWrite(bar, 0xFEB0_0000);
            h.cfgWrite(bar + 4, 0x0000_0001);
            assertEquals(0xFEB0_0004, h.cfg(bar));
            assertEquals(1, h.cfg(bar + 4));
        }
        assertEquals(0x8000, h.dev.config().bar0Size());
        assertEquals(0x10000, h.dev.config().bar2Size());
        assertEquals(0x20000, h.dev.config().bar4Size());
    }

    @Test
    void romBarIsAbsentAndReadsZeroAfterSizing() {
        h.cfgWrite(0x30, 0xFFFF_FFFF);
        assertEquals(0, h.cfg(0x30));
        assertEquals(0, h.dev.regionInfo(RegionIndex.ROM).size());
    }

    @Test
    void capabilityWalkFindsPmMsixPcieAndVendorIms() {
        List<Integer> ids = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int p = h.cfg(0x34) & 0xFC;
        while (p != 0) {
            assertTrue(p >= 0x40 && p < 0x100, "capabilities live in the standard header area");
            assertFalse(offsets.contains(p), "no loop");
            int d = h.cfg(p);
            ids.add(d & 0xFF);
            offsets.add(p);
            p = (d >>> 8) & 0xFC;
        }
        assertEquals(List.of(0x01, 0x11, 0x10, 0x09), ids);
        int msix = offsets.get(1);
        assertEquals(2047, (h.cfg(msix) >>> 16) & 0x7FF, "table size N-1");
        assertEquals(0x0000_0002, h.cfg(msix + 4), "table at BAR2 offset 0");
        assertEquals(0x0000_8002, h.cfg(msix + 8), "PBA at BAR2 offset 0x8000");
        int pcie = offsets.get(2);
        assertEquals(0x0002, h.cfg(pcie) >>> 16 & 0xFF, "PCIe capability v2");
        assertEquals(0, (h.cfg(pcie) >>> 20) & 0xF, "device/port type: endpoint");
        int ims = offsets.get(3);
        assertEquals(0x0110_0009, h.cfg(ims) & 0xFFFF_00FF, "vendor cap: length 16, type 1 (IMS)");
        assertEquals(0x0000_0004, h.cfg(ims + 4), "IMS entries at BAR4 offset 0");
        assertEquals(0x0001_0004, h.cfg(ims + 8), "IMS pending bits at BAR4 offset 0x10000");
        assertEquals(4096, h.cfg(ims + 12));
    }

    @Test
    void readOnlyFieldsIgnoreWrites() {
        h.cfgWrite(0x00, 0);
        h.cfgWrite(0x08, 0);
        h.cfgWrite(0x34, 0);
        h.cfgWrite(ConfigLayout.MSIX + 4, 0xFFFF_FFFF);
        assertEquals(0x0001_1B5A, h.cfg(0x00));
        assertEquals(0x0880_0001, h.cfg(0x08));
        assertEquals(0x40, h.cfg(0x34));
        assertEquals(2, h.cfg(ConfigLayout.MSIX + 4));
        h.cfgWrite(ConfigLayout.MSIX, 0);
        assertEquals(2047, (h.cfg(ConfigLayout.MSIX) >>> 16) & 0x7FF, "table size is read-only");
        h.cfgWrite(0x3C, 0xFFFF_FFFF);
        assertEquals(0x0000_01FF, h.cfg(0x3C), "line RW, pin RO");
    }

    @Test
    void commandKeepsOnlyImplementedBitsAndStatusIsWriteOneToClear() {
        h.cfgWrite(0x04, 0x0000_FFFF);
        assertEquals(0x0010_0546, h.cfg(0x04), "memory, bus master, parity, SERR, INTx disable; no I/O space");
        // Make the device set Received Master Abort: a DMA descriptor fault.
        DmaEngineTest.faultOnce(h);
        assertEquals(1 << 29, h.cfg(0x04) & (1 << 29), "DMA fault sets Received Master Abort");
        h.cfgWrite(0x04, 0x0000_0546);
        assertEquals(1 << 29, h.cfg(0x04) & (1 << 29), "writing 0 leaves a W1C bit");
        assertEquals(0x2010_0546, h.cfg(0x04));
        h.cfgWrite(0x04, 0xFFFF_0546);
        assertEquals(0x0010_0546, h.cfg(0x04), "writing 1 clears it; cap-list and RO bits stay");
    }

    @Test
    void subDwordAndUnalignedAccessesMerge() {
        h.write32(RegionIndex.CONFIG, 0x3C, 0);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(new byte[] {0x5A});
        h.dev.write(RegionIndex.CONFIG, 0x3C, b);
        assertEquals(0x0000_015A, h.cfg(0x3C));
        java.nio.ByteBuffer r = java.nio.ByteBuffer.allocate(3);
        h.dev.read(RegionIndex.CONFIG, 0x01, r);
        assertArrayEquals(new byte[] {0x1B, 0x01, 0x00}, r.array());
        java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(256);
        h.dev.read(RegionIndex.CONFIG, 0, all);
        assertEquals(0x5A, all.get(0) & 0xFF);
        assertEquals(0x40, all.get(0x34));
    }

    @Test
    void intxStatusFollowsTheLineAndDisableBlocksOnlyDelivery() {
        Harness.Target t = new Harness.Target("intx");
        assertTrue(h.dev.setIrqs(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1,
                new IrqData.Targets(List.of(t))).isEmpty());
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertEquals(1 << 19, h.cfg(0x04) & (1 << 19), "Interrupt Status mirrors the asserted line");
        assertEquals(1, t.triggers);
        h.bar0Write(DeviceRegisters.INTX, 1);
        h.bar0Write(DeviceRegisters.INTX, 1);
        assertEquals(1, t.triggers, "automasked: a held line does not storm");
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.UNMASK, 0, 1, IrqData.NONE);
        assertEquals(2, t.triggers, "unmask with the line still asserted fires again, once");
        h.cfgWrite(0x04, PciRegs.CMD_INTX_DISABLE);
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.UNMASK, 0, 1, IrqData.NONE);
        assertEquals(2, t.triggers, "Interrupt Disable blocks delivery");
        assertEquals(1 << 19, h.cfg(0x04) & (1 << 19), "but Status still shows the line");
        h.cfgWrite(0x04, 0);
        assertEquals(3, t.triggers, "clearing Disable with the line asserted delivers");
        h.bar0Write(DeviceRegisters.INTX, 0);
        h.dev.setIrqs(IrqIndex.INTX, IrqAction.UNMASK, 0, 1, IrqData.NONE);
        assertEquals(3, t.triggers, "deasserted line: nothing to deliver");
        assertEquals(0, h.cfg(0x04) & (1 << 19));
    }
}
