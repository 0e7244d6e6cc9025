package io.vfu.device.memmove;

/**
 * BAR0's error/feedback register: the last error the device reports to the guest, and what it concerned.
 * Writing ERROR_CODE clears both. Codes are ABI (documented in LAYOUT.md) and never change.
 */
final class ErrorRegister {
    static final int NONE = 0;
    /** The vector budget was exhausted; INFO = source (bit 31: 0 MSI-X, 1 IMS) | index. */
    static final int BUDGET_EXHAUSTED = 1;
    /** A doorbell named an MSI-X vector beyond the table; INFO = the value written. */
    static final int BAD_MSIX_VECTOR = 2;
    /** A doorbell named an IMS entry beyond the store; INFO = the value written. */
    static final int BAD_IMS_ENTRY = 3;
    /** DMA ring base/size invalid when enabling; INFO = ring size written. */
    static final int BAD_DMA_RING = 4;
    /** DMA tail beyond the ring size; INFO = the tail written. */
    static final int BAD_DMA_TAIL = 5;

    static final int SOURCE_IMS = 1 << 31;

    private int code;
    private int info;

    void report(int code, int info) {
        this.code = code;
        this.info = info;
    }

    void clear() {
        code = NONE;
        info = 0;
    }

    int code() {
        return code;
    }

    int info() {
        return info;
    }
}
