package io.vfu.bench;

import java.util.Arrays;

/** Percentiles of nanosecond samples, and the median of repeated runs. */
record Stats(long p50, long p90, long p99, long max) {

    /** Nearest-rank percentiles of {@code samples[0..n)}; sorts the array in place. */
    static Stats of(long[] samples, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("no samples");
        }
        Arrays.sort(samples, 0, n);
        return new Stats(samples[rank(n, 50)], samples[rank(n, 90)], samples[rank(n, 99)], samples[n - 1]);
    }

    private static int rank(int n, int percent) {
        return Math.min(n - 1, (int) ((long) n * percent / 100));
    }

    /** The median of repeated figures (the mean of the middle two for an even count). */
    static double median(double[] runs) {
        double[] s = runs.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
