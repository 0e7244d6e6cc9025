package io.vfu.device.memmove;

/**
 * The DMA copy engine's 32-byte descriptor and 8-byte completion record in guest memory (little-endian; see
 * LAYOUT.md). Status codes are ABI and never change.
 */
public final class DmaDescriptor {
    public static final int SIZE = 32;
    public static final int SRC = 0;
    public static final int DST = 8;
    public static final int LENGTH = 16;
    public static final int FLAGS = 20;
    public static final int COMPLETION = 24;

    /** Flags bits 1:0: interrupt kind. Bits 15:2 reserved zero. Bits 31:16: vector / entry index. */
    public static final int IRQ_NONE = 0;
    public static final int IRQ_MSIX = 1;
    public static final int IRQ_IMS = 2;
    public static final int FLAGS_RESERVED = 0xFFFC;

    public static final int RECORD_SIZE = 8;

    public static final int STATUS_SUCCESS = 1;
    public static final int STATUS_ZERO_LENGTH = 0x10;
    public static final int STATUS_TOO_LONG = 0x11;
    public static final int STATUS_ADDRESS_OVERFLOW = 0x12;
    public static final int STATUS_OVERLAP = 0x13;
    public static final int STATUS_BAD_IRQ = 0x14;
    public static final int STATUS_BAD_FLAGS = 0x15;
    public static final int STATUS_READ_FAULT = 0x20;
    public static final int STATUS_WRITE_FAULT = 0x21;
    /** The descriptor itself could not be read: no record, no interrupt; only DMA_LAST_STATUS shows it. */
    public static final int STATUS_DESCRIPTOR_FAULT = 0x22;
    /** The copy finished but its completion record could not be written (DMA_LAST_STATUS only). */
    public static final int STATUS_RECORD_FAULT = 0x23;

    /** Build flags for an interrupt selector. */
    public static int flags(int irqKind, int index) {
        return (irqKind & 3) | (index & 0xFFFF) << 16;
    }

    private DmaDescriptor() {
    }
}
