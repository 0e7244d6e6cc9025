package io.vfu.it;

import java.util.Optional;

/**
 * PCI configuration space access through the legacy ports: the address goes to 0xcf8, the data moves through
 * 0xcfc..0xcff (the byte lane is the register's low two bits). Covers the first 256 bytes of each function.
 */
public final class PciConfig {
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int HEADER_TYPE = 0x0e;
    public static final int BAR0 = 0x10;
    public static final int CAPABILITIES_POINTER = 0x34;

    /** COMMAND bits. */
    public static final int COMMAND_IO = 1;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_INTX_DISABLE = 1 << 10;

    private static final int CONFIG_ADDRESS = 0xcf8;
    private static final int CONFIG_DATA = 0xcfc;

    private final QtestSession qtest;

    public PciConfig(QtestSession qtest) {
        this.qtest = qtest;
    }

    public long read32(PciAddress f, int register) {
        aligned(register, 4);
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        return qtest.inl(CONFIG_DATA);
    }

    public int read16(PciAddress f, int register) {
        aligned(register, 2);
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        return qtest.inw(CONFIG_DATA + (register & 2));
    }

    public int read8(PciAddress f, int register) {
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        return qtest.inb(CONFIG_DATA + (register & 3));
    }

    public void write32(PciAddress f, int register, long value) {
        aligned(register, 4);
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        qtest.outl(CONFIG_DATA, value);
    }

    public void write16(PciAddress f, int register, int value) {
        aligned(register, 2);
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        qtest.outw(CONFIG_DATA + (register & 2), value);
    }

    public void write8(PciAddress f, int register, int value) {
        qtest.outl(CONFIG_ADDRESS, f.configAddress(register));
        qtest.outb(CONFIG_DATA + (register & 3), value);
    }

    private static void aligned(int register, int width) {
        if ((register & (width - 1)) != 0) {
            throw new IllegalArgumentException("register 0x" + Integer.toHexString(register)
                    + " is not aligned to " + width);
        }
    }

    /** True when a function answers at {@code f} (an absent one reads vendor 0xffff). */
    public boolean present(PciAddress f) {
        return read16(f, VENDOR_ID) != 0xffff;
    }

    /**
     * Finds the first function on bus 0 with this vendor and device ID. Devices added with {@code -device}
     * and no {@code addr} take the lowest free slot; on q35 with {@code -nodefaults} that is 00:01.0, since
     * 00:00.0 is the host bridge and 00:1f.x the ICH9 functions.
     */
    public Optional<PciAddress> find(int vendorId, int deviceId) {
        for (int dev = 0; dev < 32; dev++) {
            PciAddress f0 = new PciAddress(0, dev, 0);
            if (!present(f0)) {
                continue;
            }
            boolean multi = (read8(f0, HEADER_TYPE) & 0x80) != 0;
            for (int fn = 0; fn < (multi ? 8 : 1); fn++) {
                PciAddress f = new PciAddress(0, dev, fn);
                long ids = read32(f, VENDOR_ID);
                if ((ids & 0xffff) == vendorId && (ids >>> 16) == deviceId) {
                    return Optional.of(f);
                }
            }
        }
        return Optional.empty();
    }
}
