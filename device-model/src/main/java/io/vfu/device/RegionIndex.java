package io.vfu.device;

/** The PCI region indexes of vfio (BAR0-5, ROM, CONFIG, VGA); values are the wire indexes. */
public final class RegionIndex {
    public static final int BAR0 = 0;
    public static final int BAR2 = 2;
    public static final int BAR4 = 4;
    public static final int ROM = 6;
    public static final int CONFIG = 7;
    public static final int VGA = 8;
    /** Number of regions this device reports. */
    public static final int COUNT = 9;

    private RegionIndex() {
    }
}
