package io.vfu.device.pci;

import io.vfu.device.DeviceException;
import io.vfu.device.RegionInfo;
import java.nio.ByteBuffer;

/**
 * A device's regions as data: which index is backed by which {@link DwordAccess}, and how large it is. Reads and
 * writes are bounds-checked (without overflow) and split into dword accesses; an absent region reads as absent
 * in its {@link RegionInfo} and refuses accesses. Allocates nothing per access.
 */
public final class RegionMap {

    private final long[] sizes;
    private final DwordAccess[] regions;
    private final java.util.List<java.util.List<RegionInfo.Area>> areas = new java.util.ArrayList<>();

    /** A map of {@code count} regions, all absent (PCI: {@link io.vfu.device.RegionIndex#COUNT}). */
    public RegionMap(int count) {
        this.sizes = new long[count];
        this.regions = new DwordAccess[count];
        for (int i = 0; i < count; i++) {
            areas.add(java.util.List.of());
        }
    }

    /**
     * Lets the client map {@code mmapAreas} of region {@code index} (added before); the device keeps those bytes
     * in its shared memory ({@link io.vfu.device.DeviceContext#sharedMemory}) and its access object serves
     * trapped accesses to them from there too.
     */
    public RegionMap mmap(int index, RegionInfo.Area... mmapAreas) {
        check(index);
        if (regions[index] == null) {
            throw new IllegalArgumentException("region " + index + " is absent");
        }
        RegionInfo.readWrite(index, sizes[index]).withMmapAreas(java.util.List.of(mmapAreas)); // checks them
        areas.set(index, java.util.List.of(mmapAreas));
        return this;
    }

    /** Region {@code index} is {@code size} bytes served by {@code access}, readable and writable. */
    public RegionMap add(int index, long size, DwordAccess access) {
        if (index < 0 || index >= regions.length || size <= 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("region " + index + " of " + size + " bytes");
        }
        sizes[index] = size;
        regions[index] = access;
        return this;
    }

    public int count() {
        return regions.length;
    }

    /** What region {@code index} is. */
    public RegionInfo info(int index) {
        check(index);
        return regions[index] == null ? RegionInfo.absent(index)
                : RegionInfo.readWrite(index, sizes[index]).withMmapAreas(areas.get(index));
    }

    /** Fills {@code dst} (position to limit) from region {@code index} at {@code offset}. */
    public void read(int index, long offset, ByteBuffer dst) {
        DwordAccess.read(access(index, offset, dst.remaining()), (int) offset, dst);
    }

    /** Writes {@code src} (position to limit) to region {@code index} at {@code offset}. */
    public void write(int index, long offset, ByteBuffer src) {
        DwordAccess.write(access(index, offset, src.remaining()), (int) offset, src);
    }

    private DwordAccess access(int index, long offset, int length) {
        check(index);
        DwordAccess r = regions[index];
        if (r == null) {
            throw DeviceException.outOfRange("region " + index + " is absent");
        }
        long size = sizes[index];
        // Rule: bounds as offset > size - length, never offset + length > size (no overflow).
        if (offset < 0 || length > size || offset > size - length) {
            throw DeviceException.outOfRange("access " + offset + "+" + length + " outside region " + index
                    + " of size " + size);
        }
        return r;
    }

    private void check(int index) {
        if (index < 0 || index >= regions.length) {
            throw DeviceException.invalid("no region " + index);
        }
    }
}
