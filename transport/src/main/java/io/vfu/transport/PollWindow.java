package io.vfu.transport;

/**
 * How long a connection's reader polls before it sleeps, and whether it polls at all; pure bookkeeping, kept by
 * the reader thread alone. Two rules:
 * <ul>
 * <li>the window follows how long each message took to come: beyond the maximum it drops to zero (the client
 * is idle, as in QEMU's rule for its iothreads); within it, a window the message outlasted grows at once to
 * twice that wait (at least {@link #START_NANOS}, at most the maximum), where QEMU doubles step by step from
 * 4 us, which costs a run of wasted windows each time a client comes back from idle; a message that comes
 * inside the window leaves it as it is;
 * <li>the reader polls only while polling pays: each message a poll catches earns a credit, each window that
 * runs out costs {@link #MISS_COST}, and the reader polls only with credit left, so it keeps polling while more
 * than three polls in four catch their message. Out of credit, it sleeps at once for the next
 * {@link #MIN_BACKOFF} receives, then tries one poll again; each failed try doubles that pause (up to
 * {@link #MAX_BACKOFF}), and a full credit resets it. Only real polls count: on a machine whose cores the
 * client needs (a TCG guest on two cores), the spinning itself slows the client down, so its messages come
 * late exactly when the reader polls; judging by the gaps seen while sleeping would keep polling and losing.
 * </ul>
 */
final class PollWindow {

    /** The smallest window, QEMU's first growth step (4 us). */
    static final long START_NANOS = 4_000;
    /** Credit a message caught in the window earns. */
    static final int HIT_GAIN = 1;
    /** Credit a window that runs out costs: polling goes on only above 3 hits in 4. */
    static final int MISS_COST = 3;
    /** The most credit a run of hits builds up, so a change of pattern shows within a few misses. */
    static final int MAX_CREDIT = 8;
    /** Receives without polling after the credit first runs out. */
    static final int MIN_BACKOFF = 16;
    /** The longest pause between two tries, in receives. */
    static final int MAX_BACKOFF = 1024;

    private final long maxNanos;
    private long window;
    private int credit = HIT_GAIN;
    /** Receives left before polling is tried again (while out of credit). */
    private int pause;
    private int backoff = MIN_BACKOFF;

    PollWindow(long maxNanos) {
        this.maxNanos = maxNanos;
    }

    /** The current window in nanoseconds (0: do not poll). */
    long window() {
        return window;
    }

    int credit() {
        return credit;
    }

    /** Whether the next receive should poll before it sleeps. */
    boolean wantsPoll() {
        return window > 0 && credit > 0;
    }

    /** Receives left before the next try while out of credit (tests and diagnostics). */
    int pause() {
        return pause;
    }

    /** A poll caught its message ({@code true}) or ran out of window. */
    void polled(boolean caught) {
        if (caught) {
            credit = Math.min(MAX_CREDIT, credit + HIT_GAIN);
            if (credit == MAX_CREDIT) {
                backoff = MIN_BACKOFF; // Rule: polling has paid for a while; a later lapse pauses it briefly
            }
            return;
        }
        credit = Math.max(0, credit - MISS_COST);
        if (credit == 0) {
            pause = backoff;
            backoff = Math.min(MAX_BACKOFF, backoff * 2);
        }
    }

    /**
     * A receive slept and its message came {@code waitedNanos} after the reader asked for it.
     *
     * @param polled whether it polled first (then {@link #polled} has already judged it)
     */
    void slept(long waitedNanos, boolean polled) {
        if (!polled && credit == 0 && pause > 0 && --pause == 0) {
            credit = HIT_GAIN; // Rule: after the pause, one poll tries again
        }
        if (waitedNanos > maxNanos) {
            window = 0;
        } else if (waitedNanos > window) {
            window = Math.min(maxNanos, Math.max(START_NANOS, 2 * waitedNanos));
        }
    }
}
