package io.vfu.it;

import java.util.Map;
import java.util.TreeMap;

/** Collects each guest run's result line and wall time, and prints them together at the end of the suite. */
final class GuestSuiteReport {
    private static final Map<String, String> RUNS = new TreeMap<>();

    private GuestSuiteReport() {
    }

    static synchronized void record(String path, GuestResult r, long nanos) {
        RUNS.put(path, String.format("%s (%.1f s)", r.line(), nanos / 1e9));
    }

    static synchronized String summary() {
        StringBuilder s = new StringBuilder();
        RUNS.forEach((k, v) -> s.append("\n  ").append(k).append(": ").append(v));
        return s.toString();
    }
}
