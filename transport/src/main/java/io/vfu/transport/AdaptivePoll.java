package io.vfu.transport;

import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.SocketIo;
import java.lang.foreign.MemorySegment;

/**
 * One connection's polling window, kept by its reader thread alone. Before a receive would block, the reader
 * polls the socket for up to the window, then sleeps in recvmsg. After each receive the window adapts to how
 * long the message took to come (QEMU's rule for its iothreads): beyond the policy's maximum it drops to zero
 * (the client is idle, polling would be wasted); within it, a window the message outlasted doubles, from
 * {@link #START_NANOS}, up to the maximum. A message that comes inside the window leaves it as it is.
 */
final class AdaptivePoll {

    /** The first window after a sleep, as QEMU's first growth step (4 us). */
    static final long START_NANOS = 4_000;

    private final ReceivePolling policy;
    private final ReceivePollStats stats;
    private long window;

    AdaptivePoll(ReceivePolling policy, ReceivePollStats stats) {
        this.policy = policy;
        this.stats = stats;
    }

    /** The current window (tests and diagnostics). */
    long window() {
        return window;
    }

    /** One receive as {@link SocketIo#receive}, polling first when the window and a spinner's place allow. */
    long receive(SocketIo io, MemorySegment into, long offset, long length) throws NativeCallException {
        long start = System.nanoTime();
        if (window > 0 && policy.tryStartSpin()) {
            long n = -1;
            try {
                long end = start + window;
                do {
                    n = io.tryReceive(into, offset, length);
                    if (n >= 0) {
                        break;
                    }
                    Thread.onSpinWait();
                } while (System.nanoTime() - end < 0);
            } finally {
                policy.endSpin();
            }
            if (n >= 0) {
                stats.hit(System.nanoTime() - start);
                return n;
            }
            stats.miss(window);
        }
        long n = io.receive(into, offset, length);
        adapt(System.nanoTime() - start);
        return n;
    }

    /** Rule: the window follows the gap the last sleep measured (see the class comment). */
    void adapt(long waitedNanos) {
        long max = policy.maxNanos();
        if (waitedNanos > max) {
            window = 0;
        } else if (window < max) {
            window = window == 0 ? Math.min(START_NANOS, max) : Math.min(max, window * 2);
        }
    }
}
