package io.vfu.devices.virtioblk;

import io.vfu.device.pci.DwordAccess;

/**
 * The PCI configuration access capability's window (virtio 1.2, 4.1.4.9): pci_cfg_data reads and writes
 * {@code length} (1, 2 or 4) bytes of the BAR at {@code offset}, as cap.bar, cap.offset and cap.length say. Only
 * BAR0 holds virtio structures; anything else, or an access that is not naturally aligned, reads 0 and writes
 * nothing.
 */
final class PciCfgWindow {

    private PciCfgWindow() {
    }

    static int read(DwordAccess config, DwordAccess bar0) {
        int at = VirtioPci.PCI_CFG_CAP_OFFSET;
        int bar = config.readDword(at + 4) & 0xFF;
        long offset = config.readDword(at + 8) & 0xFFFF_FFFFL;
        int length = config.readDword(at + 12);
        if (!valid(bar, offset, length)) {
            return 0;
        }
        int shift = (int) (offset & 3) * 8;
        int v = bar0.readDword((int) (offset & ~3L)) >>> shift;
        return length == 4 ? v : v & ((1 << (8 * length)) - 1);
    }

    static void write(DwordAccess config, DwordAccess bar0, int value, int mask) {
        int at = VirtioPci.PCI_CFG_CAP_OFFSET;
        int bar = config.readDword(at + 4) & 0xFF;
        long offset = config.readDword(at + 8) & 0xFFFF_FFFFL;
        int length = config.readDword(at + 12);
        if (!valid(bar, offset, length)) {
            return;
        }
        int shift = (int) (offset & 3) * 8;
        int lanes = (length == 4 ? -1 : (1 << (8 * length)) - 1) & mask;
        bar0.writeDword((int) (offset & ~3L), value << shift, lanes << shift);
    }

    /** Rule: BAR0, a 1-, 2- or 4-byte access, naturally aligned, inside the BAR. */
    private static boolean valid(int bar, long offset, int length) {
        return bar == 0 && (length == 1 || length == 2 || length == 4) && offset % length == 0
                && offset <= VirtioPci.BAR0_SIZE - length;
    }
}
