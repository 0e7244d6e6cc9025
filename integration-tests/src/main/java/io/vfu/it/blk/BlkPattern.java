package io.vfu.it.blk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The guest's pattern (pattern.c {@code pattern_block}), recomputed on the host: 4 KiB block {@code b} holds 512
 * little-endian 64-bit words; word 0 is {@code b}, word 1 the seed, word {@code i >= 2} is
 * {@code mix64(seed + (b * 512 + i) * 0x9e3779b97f4a7c15)} with SplitMix64's finalizer as {@code mix64}.
 */
public final class BlkPattern {
    public static final int BLOCK = 4096;
    private static final int WORDS = BLOCK / 8;

    private BlkPattern() {
    }

    /** Writes block {@code block}'s 4096 bytes at {@code out}'s position (its byte order is set to little-endian). */
    public static void block(long block, long seed, ByteBuffer out) {
        out.order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(block);
        out.putLong(seed);
        for (long i = 2; i < WORDS; i++) {
            out.putLong(mix64(seed + ((block << 9) | i) * 0x9e3779b97f4a7c15L));
        }
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
