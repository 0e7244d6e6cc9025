package io.vfu.server.logging;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Bounds how many lines one kind of client event may log: a burst of {@code burst} lines, then one more each
 * {@code periodNanos / burst} (a token bucket per key). A client can connect and be refused as fast as the kernel
 * accepts; without this a connect flood is a log flood, the disk and the operator's reader paying for it. The
 * lines held back are counted and the next line that passes reports how many ({@link LogFields#SUPPRESSED}); the
 * refusal counter in the metrics ({@code vfu_sessions_refused_total}) counts every one.
 *
 * <p>Keys are the server's own words (device name, event, reason), never a client's, so the map is bounded by
 * the configuration.
 */
final class LogRateLimit {
    private final int burst;
    private final long nanosPerLine;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    LogRateLimit(int burst, long periodNanos, LongSupplier clock) {
        if (burst < 1 || periodNanos < burst) {
            throw new IllegalArgumentException("burst " + burst + " per " + periodNanos + " ns");
        }
        this.burst = burst;
        this.nanosPerLine = periodNanos / burst;
        this.clock = clock;
    }

    /**
     * Whether a line for {@code key} may be logged now.
     *
     * @return -1 to hold the line back; otherwise how many lines of this key were held back since the last one
     *         that passed
     */
    long admit(String key) {
        return buckets.computeIfAbsent(key, k -> new Bucket(burst, clock.getAsLong())).take();
    }

    private final class Bucket {
        private double tokens;
        private long last;
        private long held;

        Bucket(int tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        synchronized long take() {
            long now = clock.getAsLong(); // Rule: read under the bucket's lock, so time never runs backwards here.
            // Rule: tokens come back at one per nanosPerLine, up to the burst, however long the key was quiet.
            tokens = Math.min(burst, tokens + (double) Math.max(0, now - last) / nanosPerLine);
            last = now;
            if (tokens < 1) {
                held++;
                return -1;
            }
            tokens -= 1;
            long passed = held;
            held = 0;
            return passed;
        }
    }
}
