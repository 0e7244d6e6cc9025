package io.vfu.device;

/**
 * Offsets of the type-0 header and of this device's capability chain (PCI Local Bus 3.0 section 6.1; PCIe Base
 * 7.5). The chain is PM (0x40) -> MSI-X (0x50) -> PCI Express (0x60) -> vendor-specific IMS (0xA0) -> end.
 */
final class ConfigLayout {
    static final int SIZE = 4096;
    static final int VENDOR_ID = 0x00;
    static final int COMMAND = 0x04;
    static final int REVISION_CLASS = 0x08;
    static final int HEADER_DWORD3 = 0x0C;
    static final int BAR0 = 0x10;
    static final int SUBSYSTEM = 0x2C;
    static final int ROM_BAR = 0x30;
    static final int CAP_PTR = 0x34;
    static final int INTERRUPT = 0x3C;

    static final int CMD_MEMORY = 1 << 1;
    static final int CMD_BUS_MASTER = 1 << 2;
    static final int CMD_PARITY = 1 << 6;
    static final int CMD_SERR = 1 << 8;
    static final int CMD_INTX_DISABLE = 1 << 10;
    static final int STATUS_INTERRUPT = 1 << 3;
    static final int STATUS_CAP_LIST = 1 << 4;
    static final int STATUS_RECEIVED_MASTER_ABORT = 1 << 13;
    /** Status bits that are write-1-to-clear: parity, target/master aborts, SERR, detected parity. */
    static final int STATUS_W1C = 0xF900;

    static final int PM = 0x40;
    static final int MSIX = 0x50;
    static final int PCIE = 0x60;
    static final int PCIE_LENGTH = 0x3C;
    static final int VENDOR = 0xA0;
    static final int VENDOR_LENGTH = 0x10;

    static final int CAP_ID_PM = 0x01;
    static final int CAP_ID_VENDOR = 0x09;
    static final int CAP_ID_PCIE = 0x10;
    static final int CAP_ID_MSIX = 0x11;

    static final int MSIX_ENABLE = 1 << 15;
    static final int MSIX_FUNCTION_MASK = 1 << 14;
    /** Vendor capability +3: layout type 1 = IMS locator. */
    static final int VENDOR_TYPE_IMS = 1;

    private ConfigLayout() {
    }
}
