package io.vfu.device.memmove;

import io.vfu.device.pci.ImsStore;
import io.vfu.device.pci.MsixTable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The read-only registers a guest polls, published in memory it maps (an mmap area of BAR2, after the PBA), so
 * that reading them costs what a RAM read costs instead of a trap and a socket round trip. The device writes
 * them; the guest only reads (what it writes there is overwritten at the next update and never read back).
 *
 * <pre>
 * BAR2 + base + 0x0000  status page: the BAR0 registers below at their BAR0 offsets
 *                       (BUDGET_USED 0x14, BUDGET_EXHAUSTED 0x18, STATUS 0x1C, ERROR_CODE 0x20, ERROR_INFO 0x24,
 *                        MSIX_DROPPED 0x28, DMA_HEAD 0x110, DMA_COMPLETED 0x118, DMA_ERRORS 0x11C,
 *                        DMA_LAST_STATUS 0x120)
 * BAR2 + base + 0x1000  MSIX_DELIVERED[v], 4 bytes each (as BAR0 0x2000)
 * BAR2 + base + 0x1000 + page-aligned 4 x vectors   IMS_DELIVERED[e] (as BAR0 0x4000)
 * </pre>
 * The counters follow every delivery as it happens; the status page is refreshed after every device call that
 * may change it (under the device lock), so a guest reads it as fresh as a trapped read would be.
 */
final class SharedStatus {

    static final long STATUS_PAGE = 0x1000;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final int[] MIRRORED = {DeviceRegisters.BUDGET_USED, DeviceRegisters.BUDGET_EXHAUSTED,
            DeviceRegisters.STATUS, DeviceRegisters.ERROR_CODE, DeviceRegisters.ERROR_INFO,
            DeviceRegisters.MSIX_DROPPED, DeviceRegisters.DMA_HEAD, DeviceRegisters.DMA_COMPLETED,
            DeviceRegisters.DMA_ERRORS, DeviceRegisters.DMA_LAST_STATUS};

    private final MemorySegment page;
    private final DeviceRegisters registers;

    private SharedStatus(MemorySegment page, DeviceRegisters registers) {
        this.page = page;
        this.registers = registers;
    }

    /** Where the area starts in BAR2: the page after the PBA. */
    static long base(int msixVectors) {
        return pageAlign(DeviceConfig.pbaOffset(msixVectors) + DeviceConfig.bitWordsBytes(msixVectors));
    }

    /** Where the area ends in BAR2 (exclusive). */
    static long end(int msixVectors, int imsEntries) {
        return base(msixVectors) + STATUS_PAGE + pageAlign(4L * msixVectors) + pageAlign(4L * imsEntries);
    }

    /**
     * Publishes into {@code bar2} (the shared memory of all of BAR2: byte n is BAR2 byte n): the status page
     * now, the delivery counters from now on.
     */
    static SharedStatus publish(MemorySegment bar2, int msixVectors, int imsEntries, DeviceRegisters registers,
            MsixTable msix, ImsStore ims) {
        long base = base(msixVectors);
        long msixAt = base + STATUS_PAGE;
        msix.mirrorDelivered(bar2.asSlice(msixAt, 4L * msixVectors));
        ims.mirrorDelivered(bar2.asSlice(msixAt + pageAlign(4L * msixVectors), 4L * imsEntries));
        SharedStatus s = new SharedStatus(bar2.asSlice(base, STATUS_PAGE), registers);
        s.refresh();
        return s;
    }

    /** Rewrites the status page from the registers (under the device lock). */
    void refresh() {
        for (int offset : MIRRORED) {
            page.set(LE_INT, offset, registers.readDword(offset));
        }
    }

    private static long pageAlign(long v) {
        return (v + 4095) & ~4095L;
    }
}
