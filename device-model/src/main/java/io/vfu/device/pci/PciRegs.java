package io.vfu.device.pci;

/**
 * Offsets and bits of the PCI type-0 configuration header and of the standard capabilities this toolkit builds
 * (PCI Local Bus 3.0 section 6.1; PCI Express Base 7.5 and 7.7).
 */
public final class PciRegs {
    /** PCI Express configuration space, extended capabilities included. */
    public static final int SIZE = 4096;
    public static final int VENDOR_ID = 0x00;
    public static final int COMMAND = 0x04;
    public static final int REVISION_CLASS = 0x08;
    public static final int HEADER_DWORD3 = 0x0C;
    public static final int BAR0 = 0x10;
    public static final int SUBSYSTEM = 0x2C;
    public static final int ROM_BAR = 0x30;
    public static final int CAP_PTR = 0x34;
    public static final int INTERRUPT = 0x3C;
    /** Where standard capabilities may start: right after the header. */
    public static final int FIRST_CAPABILITY = 0x40;

    public static final int CMD_IO = 1;
    public static final int CMD_MEMORY = 1 << 1;
    public static final int CMD_BUS_MASTER = 1 << 2;
    public static final int CMD_PARITY = 1 << 6;
    public static final int CMD_SERR = 1 << 8;
    public static final int CMD_INTX_DISABLE = 1 << 10;
    public static final int STATUS_INTERRUPT = 1 << 3;
    public static final int STATUS_CAP_LIST = 1 << 4;
    public static final int STATUS_RECEIVED_MASTER_ABORT = 1 << 13;
    /** Status bits that are write-1-to-clear: parity, target/master aborts, SERR, detected parity. */
    public static final int STATUS_W1C = 0xF900;

    public static final int CAP_ID_PM = 0x01;
    public static final int CAP_ID_MSI = 0x05;
    public static final int CAP_ID_VENDOR = 0x09;
    public static final int CAP_ID_PCIE = 0x10;
    public static final int CAP_ID_MSIX = 0x11;

    /** MSI-X Message Control (capability +2): Enable and Function Mask. */
    public static final int MSIX_ENABLE = 1 << 15;
    public static final int MSIX_FUNCTION_MASK = 1 << 14;

    /** PCI Express capability: Device Capabilities (+4) bit 28 Function Level Reset Capability. */
    public static final int PCIE_DEVCAP_FLR = 1 << 28;
    /** PCI Express capability: Device Control (+8) bit 15 Initiate Function Level Reset (reads 0). */
    public static final int PCIE_DEVCTL_INITIATE_FLR = 1 << 15;
    /** Length of a version-2 PCI Express capability of an endpoint. */
    public static final int PCIE_LENGTH = 0x3C;

    private PciRegs() {
    }
}
