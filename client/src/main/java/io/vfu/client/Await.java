package io.vfu.client;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for a condition that another thread or process makes true, for tests and tools that drive a
 * server: the condition is polled with a short sleep until it holds or the timeout passes, and a timeout is a
 * failure that names what was awaited. Every test module has this module on its class path, so the suites
 * share one way of waiting instead of each writing its own deadline loop.
 */
public final class Await {

    /** The pause between two polls: short against the timeouts used, long enough not to hog a shared core. */
    static final Duration POLL = Duration.ofMillis(5);

    private Await() {
    }

    /**
     * Returns once {@code condition} holds, checking it at once and then every few milliseconds.
     *
     * @param timeout   how long to wait at most
     * @param condition what is awaited; it runs on the calling thread and must not block for long
     * @param message   what was awaited and what was seen instead, for the failure (built only on timeout)
     * @throws AssertionError       if the condition still does not hold once the timeout has passed
     * @throws InterruptedException if the waiting thread is interrupted
     */
    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> message)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            // Rule: the condition is checked after the last sleep, so a deadline passed while sleeping still
            // gives it one more look before the failure.
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("waited " + timeout.toMillis() + " ms for " + message.get());
            }
            Thread.sleep(POLL);
        }
    }
}
