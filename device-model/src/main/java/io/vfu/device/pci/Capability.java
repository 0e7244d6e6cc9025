package io.vfu.device.pci;

import java.util.Arrays;

/**
 * One PCI capability as data: its ID, length, initial bytes (as dwords) and which bits the guest may write or
 * clear by writing 1; {@link ConfigSpace.Builder#capability} places it and links the chain (the ID/next byte
 * pair of the first dword is filled in there). The standard capabilities the toolkit knows come from the
 * factory methods; anything else is built with {@link #of} and {@link #dword}.
 */
public final class Capability {

    /** Reacts to a write of a capability dword, after the masks were applied (device lock held). */
    @FunctionalInterface
    public interface WriteHook {
        /**
         * @param before  the dword before the write
         * @param after   the dword after the write
         * @param written the value written (all bits, masked by byte enables only)
         * @param mask    the byte enables of the write as a bit mask
         */
        void written(int before, int after, int written, int mask);
    }

    final int id;
    final int length;
    /** An extended capability (config space 0x100 and up) and its version; -1 for a standard one. */
    final int extendedVersion;
    final int[] values;
    final int[] writable;
    final int[] w1c;
    final WriteHook[] hooks;

    private Capability(int id, int length, int extendedVersion) {
        // Rule: a standard capability has an 8-bit ID and fits 0x40-0xFF; an extended one a 16-bit ID, a 4-bit
        // version, and fits 0x100-0xFFF. Both hold at least their header.
        boolean extended = extendedVersion >= 0;
        if (id < 0 || id > (extended ? 0xFFFF : 0xFF) || length < (extended ? 4 : 2)
                || length > (extended ? 0xF00 : 0xC0) || extendedVersion > 0xF) {
            throw new IllegalArgumentException("bad capability id " + id + ", length " + length + " or version "
                    + extendedVersion);
        }
        this.id = id;
        this.length = length;
        this.extendedVersion = extendedVersion;
        int dwords = (length + 3) / 4;
        this.values = new int[dwords];
        this.writable = new int[dwords];
        this.w1c = new int[dwords];
        this.hooks = new WriteHook[dwords];
    }

    /** An empty capability of {@code length} bytes with ID {@code id}. */
    public static Capability of(int id, int length) {
        return new Capability(id, length, -1);
    }

    /**
     * An empty PCI Express extended capability (PCIe Base 7.6) of {@code length} bytes, ID {@code id} and
     * {@code version}, for {@link ConfigSpace.Builder#extendedCapability}; its header dword is the chain's.
     */
    public static Capability extended(int id, int version, int length) {
        return new Capability(id, length, version);
    }

    /** The Device Serial Number extended capability (ID 0x3, version 1): a 64-bit serial, read-only. */
    public static Capability deviceSerialNumber(long serial) {
        return extended(0x3, 1, 12).dword(4, (int) serial, 0, 0).dword(8, (int) (serial >>> 32), 0, 0);
    }

    /**
     * Sets the dword at {@code offset} (a multiple of 4 inside the capability). In the first dword the low 16
     * bits (ID and next pointer) are the chain's: they are ignored here.
     */
    public Capability dword(int offset, int value, int writableBits, int writeOneToClear) {
        int i = index(offset);
        // Rule: a header belongs to the chain: a standard one keeps bits 31:16, an extended one none of it.
        int own = i != 0 ? 0xFFFFFFFF : extendedVersion >= 0 ? 0 : 0xFFFF0000;
        values[i] = (values[i] & ~own) | (value & own);
        writable[i] = writableBits & own;
        w1c[i] = writeOneToClear & own;
        return this;
    }

    /** Calls {@code hook} after every write to the dword at {@code offset}. */
    public Capability onWrite(int offset, WriteHook hook) {
        hooks[index(offset)] = hook;
        return this;
    }

    private int index(int offset) {
        if ((offset & 3) != 0 || offset < 0 || offset >= length) {
            throw new IllegalArgumentException("dword offset " + offset + " outside a capability of " + length);
        }
        return offset >>> 2;
    }

    public int id() {
        return id;
    }

    public int length() {
        return length;
    }

    /** Power Management, version 3, D0 and D3hot; PMCSR power state RW, No_Soft_Reset set. */
    public static Capability powerManagement() {
        return of(PciRegs.CAP_ID_PM, 8).dword(0, 0x0003 << 16, 0, 0).dword(4, 1 << 3, 0x3, 0);
    }

    /**
     * MSI-X for {@code table}: table and PBA in the BARs and at the offsets given (offsets 8-byte aligned),
     * Enable and Function Mask writable; a change of either reaches the table at once.
     */
    public static Capability msix(MsixTable table, int tableBir, long tableOffset, int pbaBir, long pbaOffset) {
        if ((tableOffset & 7) != 0 || (pbaOffset & 7) != 0 || tableBir < 0 || tableBir > 5 || pbaBir < 0
                || pbaBir > 5) {
            throw new IllegalArgumentException("MSI-X table/PBA location must be BIR 0-5, 8-byte aligned");
        }
        int control = (PciRegs.MSIX_ENABLE | PciRegs.MSIX_FUNCTION_MASK) << 16;
        return of(PciRegs.CAP_ID_MSIX, 12)
                .dword(0, (table.size() - 1) << 16, control, 0)
                .dword(4, (int) tableOffset | tableBir, 0, 0)
                .dword(8, (int) pbaOffset | pbaBir, 0, 0)
                .onWrite(0, (before, after, written, mask) -> {
                    if (before != after) {
                        int c = after >>> 16;
                        table.setControl((c & PciRegs.MSIX_ENABLE) != 0, (c & PciRegs.MSIX_FUNCTION_MASK) != 0);
                    }
                });
    }

    /**
     * MSI (PCI 6.8.1) for {@code vectors}: Message Control with Enable and Multiple Message Enable writable,
     * Multiple Message Capable = log2 of the vectors, 64-bit addresses when {@code addr64}; address and data
     * writable. The client (QEMU) emulates this capability and sets the vectors up through the vfio MSI index,
     * so the device only fires {@link MsiVectors#signal}.
     */
    public static Capability msi(MsiVectors vectors, boolean addr64) {
        int mmc = Integer.numberOfTrailingZeros(vectors.count());
        int control = mmc << 1 | (addr64 ? 1 << 7 : 0);
        Capability c = of(PciRegs.CAP_ID_MSI, addr64 ? 16 : 12)
                .dword(0, control << 16, (1 | 0x7 << 4) << 16, 0)
                .dword(4, 0, 0xFFFF_FFFC, 0);
        return addr64 ? c.dword(8, 0, 0xFFFF_FFFF, 0).dword(12, 0, 0xFFFF, 0) : c.dword(8, 0, 0xFFFF, 0);
    }

    /**
     * PCI Express v2, endpoint. Device Capabilities: Role-Based Error Reporting, MPS 128, and Function Level
     * Reset when {@code flr} is given; Device Control RW (Initiate FLR runs {@code flr}, and reads 0); Device
     * Status error bits W1C. Link: 2.5 GT/s x1.
     *
     * @param flr what a guest's Initiate FLR does (PCIe Base 6.6.2), or null for no FLR capability
     */
    public static Capability pciExpressEndpoint(Runnable flr) {
        Capability c = of(PciRegs.CAP_ID_PCIE, PciRegs.PCIE_LENGTH)
                .dword(0, 0x0002 << 16, 0, 0)
                .dword(4, 1 << 15 | (flr != null ? PciRegs.PCIE_DEVCAP_FLR : 0), 0, 0)
                .dword(8, 0, 0x7FFF, 0xF << 16)
                .dword(0xC, 0x11, 0, 0)
                .dword(0x10, 0x11 << 16, 0, 0);
        if (flr != null) {
            // Rule: Initiate FLR is a write-only trigger: not stored (reads 0), acted on when written as 1.
            c.onWrite(8, (before, after, written, mask) -> {
                if ((written & mask & PciRegs.PCIE_DEVCTL_INITIATE_FLR) != 0) {
                    flr.run();
                }
            });
        }
        return c;
    }

    /** A vendor-specific capability (ID 0x09) of {@code length} bytes; byte 2 holds the length. */
    public static Capability vendorSpecific(int length) {
        return of(PciRegs.CAP_ID_VENDOR, length).dword(0, length << 16, 0, 0);
    }

    @Override
    public String toString() {
        return "Capability[id=0x" + Integer.toHexString(id) + ", length=" + length + ", values="
                + Arrays.toString(values) + "]";
    }
}
