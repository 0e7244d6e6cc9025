package io.vfu.device;

/**
 * One region as {@code VFIO_USER_DEVICE_GET_REGION_INFO} describes it (spec "VFIO_USER_DEVICE_GET_REGION_INFO").
 * None of this device's regions is mmap-able: every access is emulated, so the model sees PBA reads and
 * doorbells.
 *
 * @param index    region index (BAR0-5 = 0-5, ROM 6, CONFIG 7, VGA 8)
 * @param size     size in bytes; 0 means absent
 * @param readable region accepts reads
 * @param writable region accepts writes
 * @param mmappable region may be mapped by the client (always false here; sparse areas would go here)
 */
public record RegionInfo(int index, long size, boolean readable, boolean writable, boolean mmappable) {

    public RegionInfo {
        if (index < 0 || size < 0) {
            throw new IllegalArgumentException("index and size must be non-negative");
        }
    }

    public static RegionInfo absent(int index) {
        return new RegionInfo(index, 0, false, false, false);
    }

    public static RegionInfo readWrite(int index, long size) {
        return new RegionInfo(index, size, true, true, false);
    }
}
