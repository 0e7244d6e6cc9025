package io.vfu.transport;

import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * Busy-polling of a connection's socket before its reader blocks in recvmsg, shared by the connections of a
 * server. A reader that sleeps pays a wake-up for each message (a scheduler round trip and, on a virtual
 * machine, an interrupt to the host); one that polls a little while a client is active takes the next message
 * at once. A reader polls only when its side has just sent something (a reply, or a request of its own), so an
 * answer is due: a stream of posted messages is read in batches by a reader that sleeps. Each connection adapts
 * its own window (see {@link UnixSocketTransport#pollBeforeReceiving} and
 * {@code PollWindow}): up to {@link #max()}, covering the gaps its client leaves, nothing once they come further
 * apart (an idle client costs no CPU, as with QEMU's iothread {@code poll-max-ns}), and it stops polling for a
 * while when most of its polls run out.
 *
 * <p>Rule: at most {@link #spinners()} readers poll at any moment among the connections that share this instance
 * (a server shares one among all its devices); the others sleep at once. The places are first come, first
 * served: a busy session keeps polling while others sleep, which is fair enough for a latency aid, and bounded.
 * That bounds the CPU polling can take from everything else on the machine (a VM's vCPUs first of all). While a
 * client is busy, a poll that catches the next message costs about what the sleep and wake-up it replaces cost.
 */
public final class ReceivePolling {

    /** Never polls: every reader sleeps in recvmsg. */
    public static final ReceivePolling OFF = new ReceivePolling(0, 0);

    /** The most any window may be: polling is for gaps of microseconds, not for waiting. */
    public static final Duration MAX = Duration.ofMillis(1);

    private final long maxNanos;
    private final int spinners;
    private final Semaphore permits;

    private ReceivePolling(long maxNanos, int spinners) {
        this.maxNanos = maxNanos;
        this.spinners = spinners;
        this.permits = new Semaphore(spinners);
    }

    /**
     * Polling windows of up to {@code max}, with at most {@code spinners} readers polling at once.
     *
     * @throws IllegalArgumentException for a window outside [0, {@link #MAX}] or fewer than one spinner (a zero
     *                                  window is {@link #OFF})
     */
    public static ReceivePolling upTo(Duration max, int spinners) {
        if (max == null || max.isNegative() || max.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("a polling window is 0.." + MAX.toNanos() / 1000 + " us: " + max);
        }
        if (max.isZero()) {
            return OFF;
        }
        if (spinners < 1) {
            throw new IllegalArgumentException("at least one reader must be allowed to poll: " + spinners);
        }
        return new ReceivePolling(max.toNanos(), spinners);
    }

    /**
     * Windows of up to {@code max} with the default number of spinners: half the CPUs this JVM may use, so
     * polling never takes more than half of them; {@link #OFF} with fewer than two (a reader that spins on the
     * only CPU keeps its client from sending what it waits for).
     */
    public static ReceivePolling upTo(Duration max) {
        return forCpus(max, Runtime.getRuntime().availableProcessors());
    }

    /** As {@link #upTo(Duration)} for a machine with {@code cpus} CPUs. */
    static ReceivePolling forCpus(Duration max, int cpus) {
        int spinners = cpus / 2;
        return spinners == 0 ? OFF : upTo(max, spinners);
    }

    /** The largest window a connection grows to; zero when off. */
    public Duration max() {
        return Duration.ofNanos(maxNanos);
    }

    /** How many readers may poll at the same moment. */
    public int spinners() {
        return spinners;
    }

    /** Whether any polling happens. */
    public boolean enabled() {
        return maxNanos > 0;
    }

    long maxNanos() {
        return maxNanos;
    }

    /** Takes a spinner's place if one is free; never waits. */
    boolean tryStartSpin() {
        return permits.tryAcquire();
    }

    void endSpin() {
        permits.release();
    }

    @Override
    public String toString() {
        return enabled() ? "polling up to " + maxNanos / 1000 + " us, " + spinners + " at once" : "no polling";
    }
}
