package io.vfu.it;

/**
 * Register offsets and codes of the default device, as {@code device-model/LAYOUT.md} fixes them (ABI), for
 * tests that drive the device over the wire. Region indexes are the spec's PCI ones.
 */
final class DeviceLayout {

    static final int BAR0 = 0;
    static final int BAR2 = 2;
    static final int BAR4 = 4;
    static final int CONFIG = 7;
    /** Region sizes of the default device (BAR0 32 KiB, BAR2 64 KiB, BAR4 128 KiB, config 4 KiB). */
    static final long[] REGION_SIZES = {0x8000, 0, 0x1_0000, 0, 0x2_0000, 0, 0, 0x1000, 0};

    // Config space.
    static final int COMMAND = 0x04;
    /** Command bits: Memory Space (1) and Bus Master (2). */
    static final int COMMAND_MEMORY_AND_BUS_MASTER = 0x06;
    /** MSI-X Message Control (capability at 0x40 + 0x10): bit 15 Enable, bit 14 Function Mask. */
    static final int MSIX_CONTROL = 0x52;
    static final int MSIX_ENABLE = 0x8000;

    // BAR0.
    static final int ID = 0x000;
    static final long ID_VALUE = 0x3155_4656L;
    static final int STATUS = 0x01C;
    static final int ERROR_CODE = 0x020;
    static final int INTX = 0x02C;
    static final int DOORBELL_MSIX = 0x040;
    static final int DOORBELL_IMS = 0x044;
    static final int SCRATCH = 0x080;
    static final int DMA_RING_BASE_LO = 0x100;
    static final int DMA_RING_BASE_HI = 0x104;
    static final int DMA_RING_SIZE = 0x108;
    static final int DMA_CONTROL = 0x10C;
    static final int DMA_HEAD = 0x110;
    static final int DMA_TAIL = 0x114;
    static final int MSIX_DELIVERED = 0x2000;

    // BAR4: IMS entry n at 16 n (address lo, address hi, data, control with bit 0 MASK, bit 2 RELEASE).
    static final int IMS_ENTRY = 16;

    // DMA descriptor (32 bytes): source u64, destination u64, length u32, flags u32, record u64.
    static final int DESCRIPTOR = 32;
    /** Descriptor flags bits 1:0: interrupt kind 1 = MSI-X vector (index in bits 31:16), 2 = IMS entry. */
    static final int IRQ_MSIX = 1;
    static final int IRQ_IMS = 2;
    /** Completion record status: success. */
    static final int STATUS_SUCCESS = 1;

    // SET_IRQS (spec): IRQ indexes and flags.
    static final int IRQ_INDEX_INTX = 0;
    static final int IRQ_INDEX_MSIX = 2;
    static final int DATA_NONE = 1;
    static final int DATA_BOOL = 2;
    static final int DATA_EVENTFD = 4;
    static final int ACTION_MASK = 8;
    static final int ACTION_UNMASK = 0x10;
    static final int ACTION_TRIGGER = 0x20;

    /** An MSI address in the APIC window (what an IMS entry or MSI-X message points at under QEMU). */
    static final long MSI_ADDRESS = 0xFEE0_0000L;

    private DeviceLayout() {
    }
}
