package io.vfu.it;

/**
 * A PCI function's bus/device/function number, and its type-1 configuration address for port 0xcf8.
 *
 * @param bus 0..255
 * @param device 0..31
 * @param function 0..7
 */
public record PciAddress(int bus, int device, int function) {
    public PciAddress {
        if (bus < 0 || bus > 255 || device < 0 || device > 31 || function < 0 || function > 7) {
            throw new IllegalArgumentException("no such PCI address " + bus + ":" + device + "." + function);
        }
    }

    /** The CONFIG_ADDRESS value (enable bit 31, bus, device, function, dword-aligned register). */
    public long configAddress(int register) {
        if (register < 0 || register > 0xff) {
            throw new IllegalArgumentException("register must be 0..255 through 0xcf8, got " + register);
        }
        return 0x8000_0000L | (long) bus << 16 | (long) device << 11 | (long) function << 8 | (register & 0xfc);
    }

    @Override
    public String toString() {
        return String.format("%02x:%02x.%x", bus, device, function);
    }
}
