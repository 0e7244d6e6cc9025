package io.vfu.devices.virtioblk;

import java.util.concurrent.TimeUnit;

/**
 * Requests in flight, and the generation that fences them: a reset starts a new generation and waits for the
 * old one's requests, so none of them touches guest memory or the rings after the driver was told the device is
 * reset. A request enters with the generation it was read under; one that enters after the fence is turned away.
 */
final class InFlight {

    private volatile int generation;
    private int count;

    int generation() {
        return generation;
    }

    /** Enters a request read under {@code gen}; false (and nothing to exit) if a reset came in between. */
    boolean enter(int gen) {
        synchronized (this) {
            // Rule: checked under the same monitor the fence takes, so a request either counts or is refused.
            if (gen != generation) {
                return false;
            }
            count++;
            return true;
        }
    }

    void exit() {
        synchronized (this) {
            if (--count == 0) {
                notifyAll();
            }
        }
    }

    /**
     * Starts a new generation and waits up to {@code timeoutMillis} for the requests of the old one.
     *
     * @return whether they all ended in time
     */
    boolean fence(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (this) {
            generation++;
            while (count > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    synchronized int count() {
        return count;
    }
}
