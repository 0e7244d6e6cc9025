package io.vfu.device.pci;

import java.util.Arrays;

/**
 * One pending bit per vector in 64-bit words, as the PCI PBA lays them out. Shifts are always 64-bit
 * ({@code 1L << (v & 63)}): in Java {@code 1 << 40 == 1 << 8}.
 */
final class PendingBits {

    private final long[] words;

    PendingBits(int count) {
        words = new long[(count + 63) / 64];
    }

    boolean get(int v) {
        return (words[v >>> 6] & (1L << (v & 63))) != 0;
    }

    void set(int v) {
        words[v >>> 6] |= 1L << (v & 63);
    }

    void clear(int v) {
        words[v >>> 6] &= ~(1L << (v & 63));
    }

    /** Number of set bits. */
    int count() {
        int n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    void clearAll() {
        Arrays.fill(words, 0);
    }

    /** The dword at byte offset {@code offset} (multiple of 4) of the little-endian bit array. */
    int readDword(int offset) {
        long w = words[offset >>> 3];
        return (offset & 4) == 0 ? (int) w : (int) (w >>> 32);
    }

    int byteSize() {
        return words.length * 8;
    }

    /** Index of the first set bit at or after {@code from}, or -1. */
    int next(int from) {
        int i = from >>> 6;
        if (i >= words.length) {
            return -1;
        }
        long w = words[i] & (-1L << (from & 63));
        while (true) {
            if (w != 0) {
                return (i << 6) + Long.numberOfTrailingZeros(w);
            }
            if (++i == words.length) {
                return -1;
            }
            w = words[i];
        }
    }
}
