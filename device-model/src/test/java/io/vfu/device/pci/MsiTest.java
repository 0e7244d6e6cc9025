package io.vfu.device.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.device.DeviceException;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MSI through the toolkit: the capability as data, and the vfio MSI index (set up at once, not maskable). */
class MsiTest {

    private final PciInterrupts irqs = new PciInterrupts(1, 0x800, 4, (a, d) -> { }, (s, i) -> { });
    private final List<String> fired = new ArrayList<>();

    private IrqTarget target(String name) {
        return () -> fired.add(name);
    }

    @Test
    void theMsiIndexOffersTheVectorsNoresizeAndUnmaskable() {
        assertEquals(new IrqInfo(IrqIndex.MSI, 4, true, false, false, true), irqs.vfio().info(IrqIndex.MSI));
        assertThrows(DeviceException.class, () -> irqs.vfio().set(IrqIndex.MSI, IrqAction.MASK, 0, 1, IrqData.NONE));
        assertEquals(new IrqInfo(IrqIndex.MSI, 0, true, false, false, true),
                new PciInterrupts(1, 0x800, (a, d) -> { }, (s, i) -> { }).vfio().info(IrqIndex.MSI),
                "without MSI the index has no vectors");
    }

    @Test
    void vectorsFireTheirTargetsAndEveryTargetComesBack() {
        IrqTarget a = target("a");
        IrqTarget b = target("b");
        irqs.vfio().set(IrqIndex.MSI, IrqAction.TRIGGER, 0, 2, new IrqData.Targets(List.of(a, b)));
        irqs.msi().signal(1);
        irqs.msi().signal(0);
        irqs.msi().signal(3); // no target: dropped, counted
        assertEquals(List.of("b", "a"), fired);
        assertEquals(2, irqs.msi().delivered());
        assertEquals(1, irqs.msi().dropped());
        irqs.vfio().set(IrqIndex.MSI, IrqAction.TRIGGER, 0, 1, IrqData.NONE); // loopback
        assertEquals(List.of("b", "a", "a"), fired);
        assertEquals(List.of(a, b), irqs.vfio().set(IrqIndex.MSI, IrqAction.TRIGGER, 0, 0, IrqData.NONE),
                "disabling the index hands both targets back");
        irqs.vfio().set(IrqIndex.MSI, IrqAction.TRIGGER, 0, 1, new IrqData.Targets(List.of(a)));
        irqs.reset();
        assertEquals(List.of(a), irqs.vfio().takeReleased(), "a reset drops MSI targets too");
        irqs.vfio().set(IrqIndex.MSI, IrqAction.TRIGGER, 2, 1, new IrqData.Targets(List.of(b)));
        assertTrue(irqs.vfio().releaseSession().contains(b), "the client's end hands them back");
    }

    @Test
    void theCapabilityIsPciMsiWith64BitAddresses() {
        ConfigSpace c = ConfigSpace.builder().capability(irqs.msiCapability()).build(null);
        int control = c.readDword(0x40) >>> 16;
        assertEquals(0x05, c.readDword(0x40) & 0xFF, "MSI capability ID");
        assertEquals(2 << 1 | 1 << 7, control, "Multiple Message Capable 4 vectors (log2 2), 64-bit, disabled");
        c.writeDword(0x40, (1 | 2 << 4) << 16, 0xFFFF_0000); // Enable, Multiple Message Enable 4
        assertEquals(1 | 2 << 4 | 2 << 1 | 1 << 7, c.readDword(0x40) >>> 16, "Enable and MME are writable");
        c.writeDword(0x44, 0xFEE0_0003, 0xFFFF_FFFF);
        assertEquals(0xFEE0_0000, c.readDword(0x44), "the address is dword-aligned");
        c.writeDword(0x4C, 0xFFFF_0041, 0xFFFF_FFFF);
        assertEquals(0x41, c.readDword(0x4C), "data is 16 bits");
        assertThrows(IllegalArgumentException.class, () -> new MsiVectors(3), "a power of two");
    }
}
