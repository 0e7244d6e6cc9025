package io.vfu.it.blk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks an image file after a check-mode guest run against its {@link BlkLayout}: the pattern ranges hold the
 * pattern byte for byte, the discard and write-zeroes ranges are zeros, and the file has the disk's size.
 * Problems are collected (the first few per range), never thrown, so one message shows them all.
 */
public final class BlkImageCheck {
    private static final int MAX_PER_RANGE = 3;
    private static final byte[] ZEROS = new byte[BlkPattern.BLOCK];

    private BlkImageCheck() {
    }

    /** The problems found; empty if the image is as the layout says. */
    public static List<String> problems(Path image, BlkLayout layout) throws IOException {
        List<String> problems = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            if (ch.size() != layout.size()) {
                problems.add("image is " + ch.size() + " bytes, the disk was " + layout.size());
            }
            for (BlkLayout.Range r : layout.patternRanges()) {
                check(ch, r, layout.seed(), true, problems);
            }
            for (BlkLayout.Range r : layout.zeroRanges()) {
                check(ch, r, layout.seed(), false, problems);
            }
        }
        return problems;
    }

    private static void check(FileChannel ch, BlkLayout.Range r, long seed, boolean pattern, List<String> problems)
            throws IOException {
        ByteBuffer got = ByteBuffer.allocate(BlkPattern.BLOCK);
        ByteBuffer want = ByteBuffer.allocate(BlkPattern.BLOCK);
        int bad = 0;
        long badBlocks = 0;
        for (long off = r.offset(); off < r.end(); off += BlkPattern.BLOCK) {
            got.clear();
            while (got.hasRemaining() && ch.read(got, off + got.position()) > 0) {
                // read the whole block (a short read only at the end of the file)
            }
            want.clear();
            if (pattern) {
                BlkPattern.block(off / BlkPattern.BLOCK, seed, want);
            } else {
                want.put(ZEROS);
            }
            if (!got.flip().equals(want.flip())) {
                badBlocks++;
                if (bad++ < MAX_PER_RANGE) {
                    got.order(ByteOrder.LITTLE_ENDIAN);
                    problems.add("block " + off / BlkPattern.BLOCK + " (byte " + off + ") is not "
                            + (pattern ? "the pattern" : "zero") + "; its first words are 0x"
                            + Long.toHexString(got.getLong(0)) + " 0x" + Long.toHexString(got.getLong(8)));
                }
            }
        }
        if (badBlocks > MAX_PER_RANGE) {
            problems.add(badBlocks + " blocks in all differ in [" + r.offset() + ", " + r.end() + ")");
        }
    }
}
