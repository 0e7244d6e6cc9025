package io.vfu.it.blk;

import java.util.List;

/**
 * Where the check-mode guest puts what on a disk of {@code size} bytes, so that the host can check the image
 * afterwards. The guest first writes the pattern over the whole disk and reads it back; then
 * <ul>
 *   <li>discards {@code [discardOffset, +discardLength)} and write-zeroes {@code [zeroOffset, +zeroLength)},
 *       both of which must then read as zeros;</li>
 *   <li>makes an ext2 filesystem on {@code [0, fsBytes)} only, writes files, remounts and re-checks them.</li>
 * </ul>
 * Everything else keeps the pattern ({@link #patternRanges()}). For a size S: fs {@code [0, S/2)}, discard
 * {@code [5S/8, 11S/16)}, write-zeroes {@code [3S/4, 13S/16)}; S is a multiple of 16 MiB so every range is
 * 1 MiB aligned, whatever the device's discard granularity.
 *
 * @param size the disk size in bytes
 * @param seed the pattern's seed
 * @param writers parallel writers (and readers) of the pattern
 */
public record BlkLayout(long size, long seed, int writers) {
    /** A byte range {@code [offset, offset + length)} of the disk. */
    public record Range(long offset, long length) {
        public long end() {
            return offset + length;
        }
    }

    public BlkLayout {
        if (size < (16 << 20) || size % (16 << 20) != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 16 MiB, got " + size);
        }
        if (writers < 1 || writers > 64) {
            throw new IllegalArgumentException("writers must be 1..64, got " + writers);
        }
    }

    public Range fs() {
        return new Range(0, size / 2);
    }

    public Range discard() {
        return new Range(size / 8 * 5, size / 16);
    }

    public Range zeroes() {
        return new Range(size / 4 * 3, size / 16);
    }

    /** The ranges that must still hold the pattern after the whole run, in disk order. */
    public List<Range> patternRanges() {
        return List.of(new Range(fs().end(), discard().offset() - fs().end()),
                new Range(discard().end(), zeroes().offset() - discard().end()),
                new Range(zeroes().end(), size - zeroes().end()));
    }

    /** The ranges that must read as zeros. */
    public List<Range> zeroRanges() {
        return List.of(discard(), zeroes());
    }

    /** Kernel command-line words for the check mode on {@code disk} (the guest reads {@code vfublk.*}). */
    public List<String> kernelArgs(BlkDisk disk) {
        if (disk.size() != size) {
            throw new IllegalArgumentException("layout for " + size + " bytes, disk of " + disk.size());
        }
        return List.of("vfublk.mode=check", "vfublk.size=" + size, "vfublk.serial=" + disk.serial(),
                "vfublk.seed=" + seed, "vfublk.writers=" + writers, "vfublk.fs_bytes=" + fs().length(),
                "vfublk.discard_off=" + discard().offset(), "vfublk.discard_len=" + discard().length(),
                "vfublk.zero_off=" + zeroes().offset(), "vfublk.zero_len=" + zeroes().length());
    }
}
