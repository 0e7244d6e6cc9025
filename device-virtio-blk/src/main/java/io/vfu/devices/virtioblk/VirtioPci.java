package io.vfu.devices.virtioblk;

import io.vfu.device.pci.Capability;

/**
 * The virtio 1.2 PCI transport's constants (virtio 1.2, 4.1 "Virtio Over PCI Bus") and where this device puts
 * its structures: all of them in BAR0, each on its own page.
 *
 * <pre>
 * BAR0 0x0000  common configuration (virtio_pci_common_cfg)   cfg_type 1
 *      0x1000  ISR status                                      cfg_type 3
 *      0x2000  device configuration (virtio_blk_config)        cfg_type 4
 *      0x3000  notifications: queue q at 0x3000 + 4 q           cfg_type 2, notify_off_multiplier 4
 * BAR2 0x0000  MSI-X table (vector 0: configuration changes, 1 + q: request queue q), then the PBA
 * </pre>
 */
final class VirtioPci {

    static final int VENDOR = 0x1AF4;
    /** Rule: a modern-only device is 0x1040 + its virtio device ID; block is 2. */
    static final int DEVICE_BLK = 0x1042;
    /** Mass storage controller, other. */
    static final int CLASS_STORAGE_OTHER = 0x018000;

    static final int CAP_COMMON = 1;
    static final int CAP_NOTIFY = 2;
    static final int CAP_ISR = 3;
    static final int CAP_DEVICE = 4;
    static final int CAP_PCI_CFG = 5;

    static final int COMMON_OFFSET = 0x0000;
    /** virtio_pci_common_cfg up to the admin queue fields (0x40 bytes). */
    static final int COMMON_LENGTH = 0x40;
    static final int ISR_OFFSET = 0x1000;
    static final int ISR_LENGTH = 4;
    static final int DEVICE_OFFSET = 0x2000;
    static final int NOTIFY_OFFSET = 0x3000;
    static final int NOTIFY_MULTIPLIER = 4;
    static final int BAR0_SIZE = 0x4000;
    static final int BAR_MSIX = 2;

    static final int STATUS_ACKNOWLEDGE = 1;
    static final int STATUS_DRIVER = 2;
    static final int STATUS_DRIVER_OK = 4;
    static final int STATUS_FEATURES_OK = 8;
    static final int STATUS_NEEDS_RESET = 0x40;
    static final int STATUS_FAILED = 0x80;

    /** Rule: 0xFFFF in a vector field means "no MSI-X vector". */
    static final int NO_VECTOR = 0xFFFF;

    static final int ISR_QUEUE = 1;
    static final int ISR_CONFIG = 2;

    /** Where the PCI configuration access capability (cfg_type 5) sits in config space: first in the chain. */
    static final int PCI_CFG_CAP_OFFSET = 0x40;
    /** Its pci_cfg_data dword, relative to the capability. */
    static final int PCI_CFG_DATA = 16;

    private VirtioPci() {
    }

    /**
     * A virtio_pci_cap: vendor-specific capability with {@code cfg_type}, the BAR, and the structure's offset and
     * length in it; the notify capability adds notify_off_multiplier (20 bytes).
     */
    static Capability structure(int cfgType, int offset, int length) {
        int capLength = cfgType == CAP_NOTIFY ? 20 : 16;
        Capability c = Capability.vendorSpecific(capLength)
                .dword(0, cfgType << 24 | capLength << 16, 0, 0)
                .dword(4, 0, 0, 0) // bar 0, id 0
                .dword(8, offset, 0, 0)
                .dword(12, length, 0, 0);
        return cfgType == CAP_NOTIFY ? c.dword(16, NOTIFY_MULTIPLIER, 0, 0) : c;
    }

    /**
     * The PCI configuration access capability: the driver writes bar, offset and length, then reads or writes
     * pci_cfg_data to reach the BAR through config space (firmware uses it when a BAR is not mapped).
     */
    static Capability pciCfgAccess() {
        return Capability.vendorSpecific(20)
                .dword(0, CAP_PCI_CFG << 24 | 20 << 16, 0, 0)
                .dword(4, 0, 0xFF, 0) // bar
                .dword(8, 0, 0xFFFF_FFFF, 0) // offset
                .dword(12, 0, 0xFFFF_FFFF, 0) // length
                .dword(PCI_CFG_DATA, 0, 0xFFFF_FFFF, 0);
    }
}
