package io.vfu.device.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The toolkit's config space as data: the chains it links, the BAR sizing bits, the masks it enforces. */
class ConfigSpaceBuilderTest {

    @Test
    void capabilitiesAreChainedInOrderAndExtendedOnesFromOx100() {
        ConfigSpace c = ConfigSpace.builder().ids(0x1b5a, 0x0042)
                .capability(Capability.powerManagement())
                .capability(Capability.vendorSpecific(8).dword(4, 0xABCD, 0, 0))
                .extendedCapability(Capability.deviceSerialNumber(0x0123_4567_89AB_CDEFL))
                .extendedCapability(Capability.extended(0xB, 1, 8)) // vendor-specific extended
                .build(null);
        assertEquals(0x40, c.readDword(PciRegs.CAP_PTR), "first capability right after the header");
        assertEquals(PciRegs.STATUS_CAP_LIST, c.readDword(PciRegs.COMMAND) >>> 16 & PciRegs.STATUS_CAP_LIST);
        assertEquals(0x01 | 0x48 << 8, c.readDword(0x40) & 0xFFFF, "PM, next at 0x48");
        assertEquals(0x09 | 0x00 << 8 | 8 << 16, c.readDword(0x48) & 0xFFFFFF, "vendor-specific, end of chain");
        assertEquals(0xABCD, c.readDword(0x4C));
        assertEquals(0x3 | 1 << 16 | 0x10C << 20, c.readDword(0x100), "DSN at 0x100, version 1, next at 0x10C");
        assertEquals(0x89AB_CDEF, c.readDword(0x104));
        assertEquals(0x0123_4567, c.readDword(0x108));
        assertEquals(0xB | 1 << 16, c.readDword(0x10C), "the last extended capability ends the chain");
        c.writeDword(0x104, 0, 0xFFFFFFFF);
        assertEquals(0x89AB_CDEF, c.readDword(0x104), "the serial is read-only");
    }

    @Test
    void barsSizeAsTheGuestProbesThem() {
        ConfigSpace c = ConfigSpace.builder().bar(0, Bar.memory32(0x1000)).bar(2, Bar.memory64(0x10_0000))
                .build(null);
        c.writeDword(PciRegs.BAR0, 0xFFFF_FFFF, 0xFFFF_FFFF);
        assertEquals(0xFFFF_F000, c.readDword(PciRegs.BAR0), "32-bit, 4 KiB: type bits 0");
        c.writeDword(PciRegs.BAR0 + 8, 0xFFFF_FFFF, 0xFFFF_FFFF);
        c.writeDword(PciRegs.BAR0 + 12, 0xFFFF_FFFF, 0xFFFF_FFFF);
        assertEquals(0xFFF0_0004, c.readDword(PciRegs.BAR0 + 8), "64-bit, 1 MiB: type bits 0b100");
        assertEquals(0xFFFF_FFFF, c.readDword(PciRegs.BAR0 + 12), "the upper half is all address");
    }

    @Test
    void layoutsThatCannotWorkAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ConfigSpace.builder()
                .capability(0x40, Capability.powerManagement()).capability(0x44, Capability.powerManagement()),
                "overlapping capabilities");
        assertThrows(IllegalArgumentException.class, () -> ConfigSpace.builder().bar(0, Bar.memory64(4096))
                .bar(1, Bar.memory32(4096)), "BAR 1 is the upper half of a 64-bit BAR 0");
        assertThrows(IllegalArgumentException.class, () -> new Bar(3000, false, false), "not a power of two");
        assertThrows(IllegalArgumentException.class, () -> ConfigSpace.builder().interruptPin(1).build(null),
                "a pin needs an INTx line");
        assertThrows(IllegalArgumentException.class,
                () -> ConfigSpace.builder().capability(Capability.deviceSerialNumber(1)), "extended in standard space");
    }
}
