package io.vfu.transport;

import java.util.concurrent.atomic.LongAdder;

/**
 * What polling did for a group of connections (a device's): how often a message came while its reader polled
 * (a wake-up saved), how often the window ran out and the reader slept after all, and the time spent
 * polling. Written by readers, read by metrics at any time.
 */
public final class ReceivePollStats {

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder pollNanos = new LongAdder();

    /** Messages that arrived while their reader polled. */
    public long hits() {
        return hits.sum();
    }

    /** Windows that ran out with no message: the reader slept after polling. */
    public long misses() {
        return misses.sum();
    }

    /** Time readers spent polling, hits and misses together. */
    public long pollNanos() {
        return pollNanos.sum();
    }

    void hit(long nanos) {
        hits.increment();
        pollNanos.add(nanos);
    }

    void miss(long nanos) {
        misses.increment();
        pollNanos.add(nanos);
    }
}
