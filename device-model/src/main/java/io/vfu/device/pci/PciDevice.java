package io.vfu.device.pci;

import io.vfu.device.Interrupts;
import io.vfu.device.RegionInfo;
import io.vfu.device.VfioDevice;
import java.nio.ByteBuffer;

/**
 * A {@link VfioDevice} built from the toolkit's parts: its regions are a {@link RegionMap} and its interrupts a
 * {@link PciInterrupts}, so region info, reads, writes, the vfio interrupt layer and the interrupt statistics
 * come from them. A device says what its parts are and what a reset does; everything else it may override.
 */
public abstract class PciDevice implements VfioDevice {

    /** The device's regions (config space included). */
    protected abstract RegionMap regions();

    /** The device's interrupt machinery. */
    protected abstract PciInterrupts irqs();

    @Override
    public int regionCount() {
        return regions().count();
    }

    @Override
    public RegionInfo regionInfo(int index) {
        return regions().info(index);
    }

    @Override
    public void read(int region, long offset, ByteBuffer dst) {
        regions().read(region, offset, dst);
    }

    @Override
    public void write(int region, long offset, ByteBuffer src) {
        regions().write(region, offset, src);
    }

    @Override
    public Interrupts interrupts() {
        return irqs().vfio();
    }

    @Override
    public InterruptStats interruptStats() {
        return irqs().stats();
    }
}
