package io.vfu.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * What every fuzzing thread shares: the devices' sockets, the {@link Watchdog} that bounds each connection's
 * life, the {@link PeerEnds} of fds handed out, a temp folder for regular files, the name all test memfds
 * carry, when the abuse ends, and counters of what happened (printed with the result).
 *
 * @param sockets     one per device; {@code sockets.get(0)} is the device the well-behaved client holds
 * @param abuseStart  {@link System#nanoTime()} when the context was made, just before the abuse starts
 * @param abuseEnd    {@link System#nanoTime()} at which no new action starts and every connection is closed
 * @param serverAlive whether the server process still runs
 * @param counters    what happened, by event
 * @param actions     each action as it started ({@link #trace})
 */
record FuzzContext(List<Path> sockets, Watchdog watchdog, PeerEnds peerEnds, Path tempDir, String memfdName,
                   long abuseStart, long abuseEnd, BooleanSupplier serverAlive, Map<String, LongAdder> counters,
                   List<String> actions) {

    FuzzContext(List<Path> sockets, Watchdog watchdog, PeerEnds peerEnds, Path tempDir, String memfdName,
            long abuseEnd, BooleanSupplier serverAlive) {
        this(List.copyOf(sockets), watchdog, peerEnds, tempDir, memfdName, System.nanoTime(), abuseEnd, serverAlive,
                new ConcurrentHashMap<>(), Collections.synchronizedList(new ArrayList<>()));
    }

    /** Records that an action starts (with the time since the abuse began), for a failure's reader. */
    void trace(String action) {
        actions.add(String.format("%8.3f s %s", (System.nanoTime() - abuseStart) / 1e9, action));
    }

    /** Counts one {@code event} (e.g. {@code "negotiate BUSY"}). */
    void count(String event) {
        count(event, 1);
    }

    void count(String event, long n) {
        counters.computeIfAbsent(event, k -> new LongAdder()).add(n);
    }

    /** A connection deadline {@code millis} from now, never past the end of the abuse. */
    long deadlineIn(long millis) {
        long d = System.nanoTime() + millis * 1_000_000L;
        return abuseEnd - d < 0 ? abuseEnd : d;
    }

    /** The abuse is over: its time is up, or the server has died (nothing more to learn). */
    boolean over() {
        return System.nanoTime() - abuseEnd >= 0 || !serverAlive.getAsBoolean();
    }
}
