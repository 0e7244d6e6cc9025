package io.vfu.devices.gpio;

import io.vfu.device.DeviceContext;
import io.vfu.device.DeviceMeters;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.Bar;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.PciDevice;
import io.vfu.device.pci.PciInterrupts;
import io.vfu.device.pci.PciRegs;
import io.vfu.device.pci.RegionMap;

/**
 * Thirty-two GPIO pins wired back to themselves, and an interrupt on a rising edge: the smallest useful device.
 *
 * <p>BAR0 (4 KiB) registers, 32-bit: {@code 0x00 ID} reads "GPIO"; {@code 0x04 OUT} drives the pins;
 * {@code 0x08 IN} reads them (the pins are looped back, so IN follows OUT); {@code 0x0C IRQ_ENABLE} selects pins
 * whose rising edge interrupts; {@code 0x10 IRQ_STATUS} holds those edges, write 1 to clear. An edge fires MSI-X
 * vector 0 when MSI-X is enabled, else INTA stays asserted while IRQ_STATUS is not zero. BAR2 (4 KiB) holds the
 * MSI-X table and PBA.
 */
public final class GpioDevice extends PciDevice {

    static final int ID = 0x00;
    static final int OUT = 0x04;
    static final int IN = 0x08;
    static final int IRQ_ENABLE = 0x0C;
    static final int IRQ_STATUS = 0x10;
    /** "GPIO" in little-endian ASCII. */
    static final int MAGIC = 0x4F495047;
    static final int VENDOR = 0x1B5A;

    private final PciInterrupts irqs;
    private final DeviceMeters.Counter edges;
    private final ConfigSpace config;
    private final RegionMap regions;
    private int out;
    private int irqEnable;
    private int irqStatus;

    GpioDevice(int deviceId, DeviceContext context) {
        edges = context.meters().counter("gpio_edges", "Rising edges on enabled pins (each raised an interrupt)");
        irqs = new PciInterrupts(1, 0x800, context.postedWrites(), (source, index) -> { });
        config = ConfigSpace.builder()
                .ids(VENDOR, deviceId)
                .subsystem(VENDOR, deviceId)
                .revisionAndClass(1, 0x088000) // generic system peripheral
                .bar(0, Bar.memory32(4096))
                .bar(2, Bar.memory32(4096))
                .interruptPin(1)
                .capability(irqs.msixCapability(2))
                .build(irqs.intx());
        regions = new RegionMap(RegionIndex.COUNT)
                .add(RegionIndex.CONFIG, PciRegs.SIZE, config)
                .add(0, 4096, registers)
                .add(2, 4096, irqs.msix());
    }

    private final DwordAccess registers = new DwordAccess() {
        @Override
        public int readDword(int offset) {
            return switch (offset) {
                case ID -> MAGIC;
                case OUT, IN -> out; // Rule: the pins are looped back, IN always reads what OUT drives.
                case IRQ_ENABLE -> irqEnable;
                case IRQ_STATUS -> irqStatus;
                default -> 0;
            };
        }

        @Override
        public void writeDword(int offset, int value, int mask) {
            switch (offset) {
                case OUT -> drive((out & ~mask) | (value & mask));
                case IRQ_ENABLE -> irqEnable = (irqEnable & ~mask) | (value & mask);
                case IRQ_STATUS -> {
                    irqStatus &= ~(value & mask); // Rule: write 1 to clear.
                    irqs.intx().setLevel(irqStatus != 0 && !irqs.msix().enabled());
                }
                default -> { } // ID and IN are read-only
            }
        }
    };

    private void drive(int pins) {
        int rising = pins & ~out & irqEnable;
        out = pins;
        if (rising == 0) {
            return;
        }
        irqStatus |= rising;
        edges.add(Integer.bitCount(rising));
        if (irqs.msix().enabled()) {
            irqs.msix().signal(0);
        } else {
            irqs.intx().setLevel(true);
        }
    }

    @Override
    protected RegionMap regions() {
        return regions;
    }

    @Override
    protected PciInterrupts irqs() {
        return irqs;
    }

    @Override
    public void reset() {
        irqs.reset();
        config.reset();
        out = 0;
        irqEnable = 0;
        irqStatus = 0;
    }
}
