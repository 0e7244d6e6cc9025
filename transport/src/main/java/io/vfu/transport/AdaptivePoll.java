package io.vfu.transport;

import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.SocketIo;
import java.lang.foreign.MemorySegment;

/**
 * A connection's receive with polling: when this side has just spoken (a reply, or a request of its own, so an
 * answer is due), its {@link PollWindow} says so and the policy has a spinner's place free, the reader tries a
 * non-blocking recvmsg until a message comes or the window runs out, then sleeps in the blocking recvmsg as
 * before. Used by the reader thread alone.
 */
final class AdaptivePoll {

    private final ReceivePolling policy;
    private final ReceivePollStats stats;
    private final PollWindow window;
    /** Whether this side sent anything since the last receive (and resets that). */
    private final java.util.function.BooleanSupplier answerDue;

    AdaptivePoll(ReceivePolling policy, ReceivePollStats stats, java.util.function.BooleanSupplier answerDue) {
        this.policy = policy;
        this.stats = stats;
        this.window = new PollWindow(policy.maxNanos());
        this.answerDue = answerDue;
    }

    /** The current window (tests and diagnostics). */
    long window() {
        return window.window();
    }

    /** One receive as {@link SocketIo#receive}, polling first when the window and a spinner's place allow. */
    long receive(SocketIo io, MemorySegment into, long offset, long length) throws NativeCallException {
        long start = System.nanoTime();
        boolean polled = false;
        // Rule: poll only for an answer; a posted stream is left to batch up while the reader sleeps.
        if (answerDue.getAsBoolean() && window.wantsPoll() && policy.tryStartSpin()) {
            polled = true;
            long n = -1;
            long limit = window.window();
            try {
                long end = start + limit;
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
            if (n > 0) {
                window.polled(true);
                stats.hit(System.nanoTime() - start);
                return n;
            }
            if (n == 0) {
                return 0; // end of stream: the session is over, nothing to judge or count
            }
            window.polled(false);
            stats.miss(System.nanoTime() - start);
        }
        long n = io.receive(into, offset, length);
        window.slept(System.nanoTime() - start, polled);
        return n;
    }
}
