package io.vfu.it;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Closes what a test registered once its deadline passes, from a thread of its own: closing a socket is what
 * wakes a thread blocked in sendmsg or recvmsg on it, so no test thread can wait on a stuck peer for longer
 * than its deadline. {@link #close()} closes everything still registered.
 */
final class Watchdog implements AutoCloseable {

    private static final long TICK_MILLIS = 20;

    private final Map<AutoCloseable, Long> deadlines = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean stopped;

    Watchdog() {
        thread = Thread.ofPlatform().daemon().name("fuzz-watchdog").start(this::run);
    }

    /** Closes {@code c} at {@code deadlineNanos} ({@link System#nanoTime()} clock) unless it is released first. */
    <T extends AutoCloseable> T guard(T c, long deadlineNanos) {
        deadlines.put(c, deadlineNanos);
        return c;
    }

    /** Forgets {@code c} (its owner closed it). */
    void release(AutoCloseable c) {
        deadlines.remove(c);
    }

    private void run() {
        while (!stopped) {
            long now = System.nanoTime();
            deadlines.forEach((c, deadline) -> {
                if (now - deadline >= 0 && deadlines.remove(c, deadline)) {
                    closeQuietly(c);
                }
            });
            try {
                Thread.sleep(TICK_MILLIS); // a tick, not a synchronisation: deadlines are checked every 20 ms
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed, or closing failed: either way the test is done with it
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        deadlines.keySet().forEach(c -> {
            deadlines.remove(c);
            closeQuietly(c);
        });
    }
}
