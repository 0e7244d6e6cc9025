package io.vfu.device.memmove;

import io.vfu.device.pci.MsixTable;

/**
 * Identity and sizes of the emulated function. Every field is configurable; {@link #defaults()} documents the
 * default device (see {@code device-model/LAYOUT.md}).
 *
 * <p>Default IDs: vendor {@code 0x1B5A} is not listed in the PCI ID database ({@code pci.ids} 2023.04.10) and is
 * not anyone's product; it is a placeholder, not an assignment. Deployments that ship a device should use a
 * vendor ID they own. Class {@code 0x088000} is "generic system peripheral / other", the class of DMA-offload
 * engines such as memmove accelerators.
 *
 * @param vendorId          PCI vendor ID (u16)
 * @param deviceId          PCI device ID (u16)
 * @param subsystemVendorId subsystem vendor ID (u16)
 * @param subsystemId       subsystem ID (u16)
 * @param revisionId        revision ID (u8)
 * @param classCode         class code, base/sub/prog-if (u24)
 * @param msixTableSize     MSI-X table size, 1..2048 (PCI: Message Control bits 10:0 hold N-1)
 * @param imsEntryCount     IMS store entries, 1..{@value #MAX_IMS_ENTRIES}
 * @param vectorBudget      device-wide pool of interrupt resources shared by MSI-X vectors and IMS entries
 * @param bar0Size          registers BAR, power of two, at least {@link #minBar0Size(int)}
 * @param bar2Size          MSI-X BAR, power of two, at least {@link #minBar2Size(int)}
 * @param bar4Size          IMS BAR, power of two, at least {@link #minBar4Size(int)}
 * @param dmaMaxTransfer    largest DMA descriptor length in bytes
 */
public record DeviceConfig(int vendorId, int deviceId, int subsystemVendorId, int subsystemId, int revisionId,
                           int classCode, int msixTableSize, int imsEntryCount, int vectorBudget,
                           long bar0Size, long bar2Size, long bar4Size, int dmaMaxTransfer) {

    public static final int MAX_MSIX = 2048;
    public static final int MAX_IMS_ENTRIES = 16384;
    public static final int DEFAULT_VENDOR = 0x1B5A;
    public static final int DEFAULT_DEVICE = 0x0001;
    public static final int DEFAULT_CLASS = 0x088000;

    public DeviceConfig {
        requireBits("vendorId", vendorId, 16);
        requireBits("deviceId", deviceId, 16);
        requireBits("subsystemVendorId", subsystemVendorId, 16);
        requireBits("subsystemId", subsystemId, 16);
        requireBits("revisionId", revisionId, 8);
        requireBits("classCode", classCode, 24);
        // Rule: PCI MSI-X table size is 1..2048 (11-bit N-1 field).
        if (msixTableSize < 1 || msixTableSize > MAX_MSIX) {
            throw new IllegalArgumentException("msixTableSize must be 1..2048: " + msixTableSize);
        }
        if (imsEntryCount < 1 || imsEntryCount > MAX_IMS_ENTRIES) {
            throw new IllegalArgumentException("imsEntryCount must be 1.." + MAX_IMS_ENTRIES);
        }
        if (vectorBudget < 0) {
            throw new IllegalArgumentException("vectorBudget must be >= 0");
        }
        requireBar("bar0Size", bar0Size, minBar0Size(imsEntryCount));
        requireBar("bar2Size", bar2Size, minBar2Size(msixTableSize));
        requireBar("bar4Size", bar4Size, minBar4Size(imsEntryCount));
        if (dmaMaxTransfer < 1) {
            throw new IllegalArgumentException("dmaMaxTransfer must be positive");
        }
    }

    /** The default device: 2048 MSI-X vectors, 4096 IMS entries, a budget of 2048, minimal BARs, 1 MiB DMA. */
    public static DeviceConfig defaults() {
        return of(DEFAULT_VENDOR, DEFAULT_DEVICE, 2048, 4096, 2048);
    }

    /** A config with the given IDs and counts, default class/subsystem and the smallest BARs that fit. */
    public static DeviceConfig of(int vendorId, int deviceId, int msixTableSize, int imsEntryCount,
                                  int vectorBudget) {
        return new DeviceConfig(vendorId, deviceId, vendorId, deviceId, 0x01, DEFAULT_CLASS, msixTableSize,
                imsEntryCount, vectorBudget, minBar0Size(imsEntryCount), minBar2Size(msixTableSize, imsEntryCount),
                minBar4Size(imsEntryCount), 1 << 20);
    }

    /** Same device with other interrupt counts, BARs resized to the minimum. */
    public DeviceConfig withCounts(int msix, int ims, int budget) {
        return new DeviceConfig(vendorId, deviceId, subsystemVendorId, subsystemId, revisionId, classCode, msix,
                ims, budget, minBar0Size(ims), minBar2Size(msix, ims), minBar4Size(ims), dmaMaxTransfer);
    }

    /** Offset of the MSI-X PBA in BAR2: the table rounded up to a 4 KiB page. */
    public static long pbaOffset(int msixTableSize) {
        return MsixTable.pbaAfterTable(msixTableSize);
    }

    /** Offset of the IMS pending bits in BAR4: the entries rounded up to a 4 KiB page. */
    public static long imsPendingOffset(int imsEntryCount) {
        return pageAlign(16L * imsEntryCount);
    }

    public static long minBar0Size(int imsEntryCount) {
        return ceilPow2(DeviceRegisters.IMS_COUNTERS + 4L * imsEntryCount);
    }

    public static long minBar2Size(int msixTableSize) {
        return ceilPow2(pbaOffset(msixTableSize) + bitWordsBytes(msixTableSize));
    }

    /**
     * The BAR2 size a device gets by default: table, PBA and the published registers ({@link SharedStatus}:
     * the status page and the delivery counters the guest reads without a trap).
     */
    public static long minBar2Size(int msixTableSize, int imsEntryCount) {
        return Math.max(minBar2Size(msixTableSize), ceilPow2(SharedStatus.end(msixTableSize, imsEntryCount)));
    }

    public static long minBar4Size(int imsEntryCount) {
        return ceilPow2(imsPendingOffset(imsEntryCount) + bitWordsBytes(imsEntryCount));
    }

    /** Bytes of a pending-bit array: one bit per vector, in whole 64-bit words (PCI PBA layout). */
    static long bitWordsBytes(int n) {
        return 8L * ((n + 63) / 64);
    }

    private static long pageAlign(long v) {
        return (v + 4095) & ~4095L;
    }

    private static long ceilPow2(long v) {
        long p = 4096;
        while (p < v) {
            p <<= 1;
        }
        return p;
    }

    private static void requireBits(String name, int v, int bits) {
        if (v < 0 || v >= (1 << bits)) {
            throw new IllegalArgumentException(name + " does not fit " + bits + " bits: " + v);
        }
    }

    private static void requireBar(String name, long size, long min) {
        // Rule: a memory BAR is a power of two (sizing protocol) and holds its layout; < 4 GiB keeps BARn+1 = 0.
        if (Long.bitCount(size) != 1 || size < min || size > (1L << 31)) {
            throw new IllegalArgumentException(name + " must be a power of two in [" + min + ", 2 GiB]: " + size);
        }
    }
}
