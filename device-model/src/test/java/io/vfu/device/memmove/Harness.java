package io.vfu.device.memmove;

import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqTarget;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.PciRegs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** A device plus recorders for what leaves it, and little-endian dword helpers over the public API. */
final class Harness {

    /** One posted write that left the device. */
    record Posted(long address, int data) {
    }

    /** A vfio target that records its triggers (the server's eventfd stand-in: same one-method contract). */
    static final class Target implements IrqTarget {
        final String name;
        int triggers;

        Target(String name) {
            this.name = name;
        }

        @Override
        public void trigger() {
            triggers++;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final List<Posted> posted = new ArrayList<>();
    int workKicks;
    final MemmoveImsDevice dev;
    private final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    Harness(DeviceConfig config) {
        dev = new MemmoveImsDevice(config, (a, d) -> posted.add(new Posted(a, d)), () -> workKicks++);
    }

    Harness() {
        this(DeviceConfig.defaults());
    }

    int read32(int region, long offset) {
        buf.clear().limit(4);
        dev.read(region, offset, buf);
        return buf.getInt(0);
    }

    void write32(int region, long offset, int value) {
        buf.clear();
        buf.putInt(0, value).limit(4);
        dev.write(region, offset, buf);
    }

    int cfg(int offset) {
        return read32(RegionIndex.CONFIG, offset);
    }

    void cfgWrite(int offset, int value) {
        write32(RegionIndex.CONFIG, offset, value);
    }

    int bar0(int offset) {
        return read32(RegionIndex.BAR0, offset);
    }

    void bar0Write(int offset, int value) {
        write32(RegionIndex.BAR0, offset, value);
    }

    /** Set MSI-X Enable and Function Mask through config space, as a client's config write does. */
    void msixControl(boolean enable, boolean functionMask) {
        int d = cfg(ConfigLayout.MSIX) & 0x3FFF_FFFF;
        d |= (enable ? PciRegs.MSIX_ENABLE : 0) << 16;
        d |= (functionMask ? PciRegs.MSIX_FUNCTION_MASK : 0) << 16;
        cfgWrite(ConfigLayout.MSIX, d);
    }

    void programMsix(int v, long address, int data) {
        write32(RegionIndex.BAR2, 16L * v, (int) address);
        write32(RegionIndex.BAR2, 16L * v + 4, (int) (address >>> 32));
        write32(RegionIndex.BAR2, 16L * v + 8, data);
    }

    void msixEntryMask(int v, boolean mask) {
        write32(RegionIndex.BAR2, 16L * v + 12, mask ? 1 : 0);
    }

    boolean pbaBit(int v) {
        long off = DeviceConfig.pbaOffset(dev.config().msixTableSize()) + 8L * (v / 64);
        long word = (read32(RegionIndex.BAR2, off) & 0xFFFFFFFFL) | (long) read32(RegionIndex.BAR2, off + 4) << 32;
        return (word & (1L << (v & 63))) != 0;
    }

    void programIms(int e, long address, int data) {
        write32(RegionIndex.BAR4, 16L * e, (int) address);
        write32(RegionIndex.BAR4, 16L * e + 4, (int) (address >>> 32));
        write32(RegionIndex.BAR4, 16L * e + 8, data);
    }

    void imsControl(int e, int value) {
        write32(RegionIndex.BAR4, 16L * e + 12, value);
    }

    int imsControl(int e) {
        return read32(RegionIndex.BAR4, 16L * e + 12);
    }

    boolean imsPendingBit(int e) {
        long off = DeviceConfig.imsPendingOffset(dev.config().imsEntryCount()) + 8L * (e / 64);
        long word = (read32(RegionIndex.BAR4, off) & 0xFFFFFFFFL) | (long) read32(RegionIndex.BAR4, off + 4) << 32;
        return (word & (1L << (e & 63))) != 0;
    }

    void fireMsix(int v) {
        bar0Write(DeviceRegisters.DOORBELL_MSIX, v);
    }

    void fireIms(int e) {
        bar0Write(DeviceRegisters.DOORBELL_IMS, e);
    }

    List<IrqTarget> assign(int v, IrqTarget t) {
        return dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, v, 1, new IrqData.Targets(List.of(t)));
    }

    List<IrqTarget> deassign(int v) {
        return dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, v, 1, new IrqData.Targets(List.of()));
    }
}
