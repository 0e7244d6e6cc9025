package io.vfu.device.memmove;

import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.ImsStore;
import io.vfu.device.pci.IntxLine;
import io.vfu.device.pci.MsixTable;
import io.vfu.device.pci.VectorBudget;

/**
 * BAR0: identification, status, error/feedback, budget, doorbells, scratch, DMA engine registers and the
 * per-vector delivery counters. All registers are 32-bit little-endian; the map is in LAYOUT.md and is ABI.
 * Unknown offsets read 0 and ignore writes. A doorbell acts on the whole value written.
 */
final class DeviceRegisters implements DwordAccess {
    static final int ID = 0x000;
    static final int VERSION = 0x004;
    static final int MSIX_COUNT = 0x008;
    static final int IMS_COUNT = 0x00C;
    static final int BUDGET_TOTAL = 0x010;
    static final int BUDGET_USED = 0x014;
    static final int BUDGET_EXHAUSTED = 0x018;
    static final int STATUS = 0x01C;
    static final int ERROR_CODE = 0x020;
    static final int ERROR_INFO = 0x024;
    static final int MSIX_DROPPED = 0x028;
    static final int INTX = 0x02C;
    static final int SHARED_STATUS = 0x030;
    static final int DOORBELL_MSIX = 0x040;
    static final int DOORBELL_IMS = 0x044;
    static final int SCRATCH = 0x080;
    static final int SCRATCH_COUNT = 32;
    static final int DMA_RING_BASE_LO = 0x100;
    static final int DMA_RING_BASE_HI = 0x104;
    static final int DMA_RING_SIZE = 0x108;
    static final int DMA_CONTROL = 0x10C;
    static final int DMA_HEAD = 0x110;
    static final int DMA_TAIL = 0x114;
    static final int DMA_COMPLETED = 0x118;
    static final int DMA_ERRORS = 0x11C;
    static final int DMA_LAST_STATUS = 0x120;
    static final int MSIX_COUNTERS = 0x2000;
    static final int IMS_COUNTERS = 0x4000;

    /** "VFU1" in little-endian bytes. */
    static final int MAGIC = 0x31554656;
    static final int LAYOUT_VERSION = 0x0001_0000;

    static final int STATUS_MSIX_ENABLED = 1;
    static final int STATUS_MSIX_FUNCTION_MASKED = 1 << 1;
    static final int STATUS_INTX = 1 << 2;
    static final int STATUS_ERROR = 1 << 3;
    static final int STATUS_DMA_ENABLED = 1 << 4;
    static final int STATUS_DMA_PENDING = 1 << 5;
    static final int STATUS_BUDGET_FULL = 1 << 6;

    private final MsixTable msix;
    private final ImsStore ims;
    private final VectorBudget budget;
    private final ErrorRegister errors;
    private final IntxLine intx;
    private final DmaEngine dma;
    private final int[] scratch = new int[SCRATCH_COUNT];
    /** BAR2 offset of the published registers ({@link SharedStatus}), 0 when the device publishes none. */
    private int sharedStatusOffset;

    DeviceRegisters(MsixTable msix, ImsStore ims, VectorBudget budget, ErrorRegister errors, IntxLine intx,
                    DmaEngine dma) {
        this.msix = msix;
        this.ims = ims;
        this.budget = budget;
        this.errors = errors;
        this.intx = intx;
        this.dma = dma;
    }

    void sharedStatusOffset(int offset) {
        this.sharedStatusOffset = offset;
    }

    void reset() {
        java.util.Arrays.fill(scratch, 0);
        errors.clear();
    }

    @Override
    public int readDword(int offset) {
        if (offset >= IMS_COUNTERS) {
            int e = (offset - IMS_COUNTERS) >>> 2;
            return e < ims.count() ? ims.deliveredCount(e) : 0;
        }
        if (offset >= MSIX_COUNTERS) {
            int v = (offset - MSIX_COUNTERS) >>> 2;
            return v < msix.size() ? msix.deliveredCount(v) : 0;
        }
        if (offset >= SCRATCH && offset < SCRATCH + 4 * SCRATCH_COUNT) {
            return scratch[(offset - SCRATCH) >>> 2];
        }
        if (offset >= DMA_RING_BASE_LO && offset <= DMA_LAST_STATUS) {
            return dma.readRegister(offset);
        }
        return switch (offset) {
            case ID -> MAGIC;
            case VERSION -> LAYOUT_VERSION;
            case MSIX_COUNT -> msix.size();
            case IMS_COUNT -> ims.count();
            case BUDGET_TOTAL -> budget.total();
            case BUDGET_USED -> budget.used();
            case BUDGET_EXHAUSTED -> (int) budget.exhaustedCount();
            case STATUS -> status();
            case ERROR_CODE -> errors.code();
            case ERROR_INFO -> errors.info();
            case MSIX_DROPPED -> (int) msix.droppedCount();
            case INTX -> intx.level() ? 1 : 0;
            case SHARED_STATUS -> sharedStatusOffset;
            default -> 0;
        };
    }

    private int status() {
        int s = 0;
        s |= msix.enabled() ? STATUS_MSIX_ENABLED : 0;
        s |= msix.functionMasked() ? STATUS_MSIX_FUNCTION_MASKED : 0;
        s |= intx.level() ? STATUS_INTX : 0;
        s |= errors.code() != ErrorRegister.NONE ? STATUS_ERROR : 0;
        s |= dma.readRegister(DMA_CONTROL) != 0 ? STATUS_DMA_ENABLED : 0;
        s |= dma.ringNonEmpty() ? STATUS_DMA_PENDING : 0;
        s |= budget.used() == budget.total() ? STATUS_BUDGET_FULL : 0;
        return s;
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        if (offset >= SCRATCH && offset < SCRATCH + 4 * SCRATCH_COUNT) {
            int i = (offset - SCRATCH) >>> 2;
            scratch[i] = (scratch[i] & ~mask) | (value & mask);
            return;
        }
        if (offset >= DMA_RING_BASE_LO && offset <= DMA_LAST_STATUS) {
            dma.writeRegister(offset, (dma.readRegister(offset) & ~mask) | (value & mask), errors);
            return;
        }
        switch (offset) {
            case ERROR_CODE -> errors.clear();
            case INTX -> intx.setLevel((value & mask & 1) != 0);
            case DOORBELL_MSIX -> {
                if (Integer.compareUnsigned(value, msix.size()) >= 0) {
                    errors.report(ErrorRegister.BAD_MSIX_VECTOR, value);
                } else {
                    msix.signal(value);
                }
            }
            case DOORBELL_IMS -> {
                if (Integer.compareUnsigned(value, ims.count()) >= 0) {
                    errors.report(ErrorRegister.BAD_IMS_ENTRY, value);
                } else {
                    ims.signal(value);
                }
            }
            default -> { }
        }
    }
}
