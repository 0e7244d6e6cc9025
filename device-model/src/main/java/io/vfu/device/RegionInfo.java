package io.vfu.device;

import java.util.List;

/**
 * One region as {@code VFIO_USER_DEVICE_GET_REGION_INFO} describes it (spec "VFIO_USER_DEVICE_GET_REGION_INFO").
 * A region may have areas the client maps into the guest directly (spec "sparse mmap" capability): the guest
 * then reads and writes those bytes with no message at all, so the device sees them only in the shared memory
 * behind them ({@link DeviceContext#sharedMemory}). Everything else is trapped: every access reaches the device.
 *
 * @param index     region index (BAR0-5 = 0-5, ROM 6, CONFIG 7, VGA 8)
 * @param size      size in bytes; 0 means absent
 * @param readable  region accepts reads
 * @param writable  region accepts writes
 * @param mmapAreas areas the client may map (page-aligned, inside the region, not overlapping); empty when the
 *                  whole region is trapped
 */
public record RegionInfo(int index, long size, boolean readable, boolean writable, List<Area> mmapAreas) {

    /** Page size that mmap areas are aligned to. */
    public static final long PAGE = 4096;

    /** An mmap-able area: {@code [offset, offset + size)} of the region, both page-aligned. */
    public record Area(long offset, long size) {
        public Area {
            // Rule: the client mmaps whole pages: offset and size are page multiples, size positive.
            if (offset < 0 || size <= 0 || offset % PAGE != 0 || size % PAGE != 0) {
                throw new IllegalArgumentException("an mmap area is page-aligned: offset " + offset + " size "
                        + size);
            }
        }
    }

    public RegionInfo {
        if (index < 0 || size < 0) {
            throw new IllegalArgumentException("index and size must be non-negative");
        }
        mmapAreas = List.copyOf(mmapAreas);
        long end = 0;
        for (Area a : mmapAreas) {
            // Rule: areas lie inside the region, in order, without overlap (checked without overflow).
            if (a.offset() < end || a.size() > size || a.offset() > size - a.size()) {
                throw new IllegalArgumentException("mmap area " + a + " outside region " + index + " of " + size
                        + " bytes or overlapping the one before");
            }
            end = a.offset() + a.size();
        }
    }

    /** Whether the client may map part of this region. */
    public boolean mmappable() {
        return !mmapAreas.isEmpty();
    }

    public static RegionInfo absent(int index) {
        return new RegionInfo(index, 0, false, false, List.of());
    }

    /** A readable and writable region whose every access is trapped. */
    public static RegionInfo readWrite(int index, long size) {
        return new RegionInfo(index, size, true, true, List.of());
    }

    /** This region with {@code areas} the client may map. */
    public RegionInfo withMmapAreas(List<Area> areas) {
        return new RegionInfo(index, size, readable, writable, areas);
    }
}
