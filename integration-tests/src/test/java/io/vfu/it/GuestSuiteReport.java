package io.vfu.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects each guest run's result line and wall time and prints them at the end of each guest test class.
 * With both paths done it also prints the single line: the direct run's counts with its mmap DMA
 * result and the container run's message DMA result (each boot can test only one DMA mode).
 */
final class GuestSuiteReport {
    private static final Map<String, GuestResult> RESULTS = new TreeMap<>();
    private static final Map<String, Double> SECONDS = new TreeMap<>();

    private GuestSuiteReport() {
    }

    static synchronized void record(String path, GuestResult r, long nanos) {
        RESULTS.put(path, r);
        SECONDS.put(path, nanos / 1e9);
    }

    static synchronized String summary() {
        StringBuilder s = new StringBuilder();
        RESULTS.forEach((k, r) -> s.append(String.format("%n  %s (%.1f s): %s", k, SECONDS.get(k), r.line())));
        GuestResult direct = RESULTS.get("direct");
        GuestResult containers = RESULTS.get("containers");
        if (direct != null && containers != null) {
            ObjectNode both = direct.result().deepCopy();
            both.set("dma_msg_ok", containers.result().get("dma_msg_ok"));
            s.append("\n  both paths: ").append(GuestResult.RESULT).append(both);
        }
        return s.toString();
    }
}
