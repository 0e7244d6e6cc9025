package io.vfu.device;

import static io.vfu.device.ConfigLayout.*;

import java.util.Arrays;

/**
 * The 4 KiB type-0 configuration space. State is bytes (as dwords) plus a writable mask and a write-1-to-clear
 * mask; behaviour lives in the masks and in two hooks (Command for INTx, MSI-X Message Control). Status bit 3
 * (Interrupt Status) is not stored: it reads the INTx line, so it can never disagree with it.
 */
final class ConfigSpace implements DwordAccess {

    private final int[] data = new int[SIZE / 4];
    private final int[] wmask = new int[SIZE / 4];
    private final int[] w1c = new int[SIZE / 4];
    private final int[] initial;
    private final MsixTable msix;
    private final IntxLine intx;
    private Runnable busMasterChanged = () -> { };

    ConfigSpace(DeviceConfig c, MsixTable msix, IntxLine intx) {
        this.msix = msix;
        this.intx = intx;
        put(VENDOR_ID, c.vendorId() | c.deviceId() << 16, 0, 0);
        put(COMMAND, STATUS_CAP_LIST << 16,
                CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE, STATUS_W1C << 16);
        put(REVISION_CLASS, c.revisionId() | c.classCode() << 8, 0, 0);
        // Cache line size is RW; latency timer, header type 0 (single function) and BIST are RO zero.
        put(HEADER_DWORD3, 0, 0xFF, 0);
        bar64(BAR0, c.bar0Size());
        bar64(BAR0 + 8, c.bar2Size());
        bar64(BAR0 + 16, c.bar4Size());
        put(SUBSYSTEM, c.subsystemVendorId() | c.subsystemId() << 16, 0, 0);
        put(ROM_BAR, 0, 0, 0); // Rule: no expansion ROM; the BAR is read-only zero so sizing finds nothing.
        put(CAP_PTR, PM, 0, 0);
        put(INTERRUPT, 1 << 8, 0xFF, 0); // Interrupt Pin = INTA (RO), Interrupt Line RW.

        // Power Management, version 3, D0/D3hot; PMCSR power state RW, No_Soft_Reset set.
        put(PM, CAP_ID_PM | MSIX << 8 | 0x0003 << 16, 0, 0);
        put(PM + 4, 1 << 3, 0x3, 0);

        // MSI-X: table at BAR2 offset 0, PBA after it in BAR2; Enable and Function Mask writable.
        put(MSIX, CAP_ID_MSIX | PCIE << 8 | (c.msixTableSize() - 1) << 16,
                (MSIX_ENABLE | MSIX_FUNCTION_MASK) << 16, 0);
        put(MSIX + 4, 2, 0, 0);
        put(MSIX + 8, (int) DeviceConfig.pbaOffset(c.msixTableSize()) | 2, 0, 0);

        // PCI Express v2, endpoint. DevCap: Role-Based Error Reporting, MPS 128. DevCtl RW (no FLR),
        // DevSta error bits W1C. Link: 2.5 GT/s x1.
        put(PCIE, CAP_ID_PCIE | VENDOR << 8 | 0x0002 << 16, 0, 0);
        put(PCIE + 4, 1 << 15, 0, 0);
        put(PCIE + 8, 0, 0x7FFF, 0xF << 16);
        put(PCIE + 0xC, 0x11, 0, 0);
        put(PCIE + 0x10, 0x11 << 16, 0, 0);

        // Vendor-specific IMS locator (LAYOUT.md): +3 type, +4 entries offset|BIR, +8 pending offset|BIR, +C count.
        put(VENDOR, CAP_ID_VENDOR | VENDOR_LENGTH << 16 | VENDOR_TYPE_IMS << 24, 0, 0);
        put(VENDOR + 4, 4, 0, 0);
        put(VENDOR + 8, (int) DeviceConfig.imsPendingOffset(c.imsEntryCount()) | 4, 0, 0);
        put(VENDOR + 0xC, c.imsEntryCount(), 0, 0);
        // Extended space 0x100: a zero header means "no extended capabilities" (PCIe Base 7.6.2).
        initial = data.clone();
    }

    private void put(int offset, int value, int writable, int writeOneToClear) {
        data[offset >>> 2] = value;
        wmask[offset >>> 2] = writable;
        w1c[offset >>> 2] = writeOneToClear;
    }

    /** A 64-bit memory BAR: type bits 0b100 RO; address bits above the size writable (sizing protocol). */
    private void bar64(int offset, long size) {
        put(offset, 0x4, (int) ~(size - 1) & ~0xF, 0);
        put(offset + 4, 0, 0xFFFFFFFF, 0); // sizes < 4 GiB: the whole upper half is address
    }

    /** Hook called after Bus Master Enable changes (the DMA engine resumes queued work). */
    void onBusMasterChange(Runnable hook) {
        this.busMasterChanged = hook;
    }

    /** Reset to power-on values; MSI-X Enable/Function Mask clear with it. */
    void reset() {
        System.arraycopy(initial, 0, data, 0, data.length);
    }

    /** The function saw its own bus-master request fail (DMA fault): Status.Received Master Abort, W1C. */
    void setReceivedMasterAbort() {
        data[COMMAND >>> 2] |= STATUS_RECEIVED_MASTER_ABORT << 16;
    }

    boolean busMaster() {
        return (data[COMMAND >>> 2] & CMD_BUS_MASTER) != 0;
    }

    @Override
    public int readDword(int offset) {
        int d = data[offset >>> 2];
        if (offset == COMMAND && intx.level()) {
            d |= STATUS_INTERRUPT << 16; // Rule: Interrupt Status mirrors the INTx line, whatever Disable says.
        }
        return d;
    }

    @Override
    public void writeDword(int offset, int value, int mask) {
        int i = offset >>> 2;
        int old = data[i];
        int updated = (old & ~(wmask[i] & mask)) | (value & wmask[i] & mask);
        updated &= ~(value & w1c[i] & mask); // Rule: write-1-to-clear bits clear where a 1 is written.
        data[i] = updated;
        if (offset == COMMAND) {
            intx.setDisabled((updated & CMD_INTX_DISABLE) != 0);
            if (((old ^ updated) & CMD_BUS_MASTER) != 0) {
                busMasterChanged.run();
            }
        } else if (offset == MSIX && old != updated) {
            int control = updated >>> 16;
            msix.setControl((control & MSIX_ENABLE) != 0, (control & MSIX_FUNCTION_MASK) != 0);
        }
    }

    /** Snapshot for tests and diagnostics. */
    int[] dwords() {
        return Arrays.copyOf(data, data.length);
    }
}
