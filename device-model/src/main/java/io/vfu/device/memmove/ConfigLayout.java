package io.vfu.device.memmove;

import io.vfu.device.pci.Bar;
import io.vfu.device.pci.Capability;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.IntxLine;
import io.vfu.device.pci.MsixTable;
import io.vfu.device.pci.PciRegs;

/**
 * This device's configuration space (LAYOUT.md, ABI): three 64-bit BARs, INTA, and the chain PM (0x40) -> MSI-X
 * (0x50) -> PCI Express with FLR (0x60) -> vendor-specific IMS locator (0xA0) -> end.
 */
final class ConfigLayout {
    static final int PM = 0x40;
    static final int MSIX = 0x50;
    static final int PCIE = 0x60;
    static final int VENDOR = 0xA0;
    static final int VENDOR_LENGTH = 0x10;
    /** Vendor capability +3: layout type 1 = IMS locator. */
    static final int VENDOR_TYPE_IMS = 1;

    private ConfigLayout() {
    }

    /** The configuration space for {@code c}; {@code flr} is what the guest's Initiate FLR does. */
    static ConfigSpace build(DeviceConfig c, MsixTable msix, IntxLine intx, Runnable flr) {
        return ConfigSpace.builder()
                .ids(c.vendorId(), c.deviceId())
                .subsystem(c.subsystemVendorId(), c.subsystemId())
                .revisionAndClass(c.revisionId(), c.classCode())
                .bar(0, Bar.memory64(c.bar0Size()))
                .bar(2, Bar.memory64(c.bar2Size()))
                .bar(4, Bar.memory64(c.bar4Size()))
                .interruptPin(1)
                .capability(PM, Capability.powerManagement())
                // MSI-X table at BAR2 offset 0, PBA after it in BAR2.
                .capability(MSIX, Capability.msix(msix, 2, 0, 2, DeviceConfig.pbaOffset(c.msixTableSize())))
                .capability(PCIE, Capability.pciExpressEndpoint(flr))
                // IMS locator: +3 type, +4 entries offset|BIR, +8 pending offset|BIR, +C count.
                .capability(VENDOR, Capability.vendorSpecific(VENDOR_LENGTH)
                        .dword(0, VENDOR_LENGTH << 16 | VENDOR_TYPE_IMS << 24, 0, 0)
                        .dword(4, 4, 0, 0)
                        .dword(8, (int) DeviceConfig.imsPendingOffset(c.imsEntryCount()) | 4, 0, 0)
                        .dword(0xC, c.imsEntryCount(), 0, 0))
                .build(intx);
    }

    /** Size of the configuration region. */
    static final int SIZE = PciRegs.SIZE;
}
