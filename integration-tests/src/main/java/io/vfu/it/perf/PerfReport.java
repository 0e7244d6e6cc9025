package io.vfu.it.perf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vfu.it.blk.BlkRun;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The perf-mode guest's {@code VFU-GUESTBENCH {...}} line: per device ({@code "vfu"}, {@code "edu"} and
 * {@code "floor"}, ivshmem-doorbell answered by {@link IvshmemEcho}) the median over the runs of each figure, in
 * nanoseconds (latencies) or copies per second.
 */
public record PerfReport(String line, JsonNode json) {
    public static final String PREFIX = "VFU-GUESTBENCH ";
    public static final List<String> DEVICES = List.of("vfu", "edu", "floor");
    /** The figures ours and edu report, as the guest names them. */
    public static final List<String> FIGURES = List.of("read_p50_ns", "read_p99_ns", "write_p50_ns", "write_p99_ns",
            "irq_p50_ns", "irq_p99_ns", "dma_copies_per_s", "dma_p50_ns");
    /** The figures the floor reports: it has no DMA engine, so its DMA figures are null. */
    public static final List<String> FLOOR_FIGURES = List.of("read_p50_ns", "read_p99_ns", "write_p50_ns",
            "write_p99_ns", "irq_p50_ns", "irq_p99_ns");
    /** Ours only, when the plan names a register in an mmap'd area. */
    public static final List<String> SHM_FIGURES = List.of("shm_read_p50_ns", "shm_read_p99_ns");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses the line of a run; throws {@link IllegalStateException} with the transcript unless it says ok. */
    public static PerfReport of(BlkRun run) {
        String text = run.line(PREFIX);
        if (text == null) {
            throw new IllegalStateException("the guest printed no VFU-GUESTBENCH line\n" + run.transcript());
        }
        JsonNode json;
        try {
            json = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unparsable VFU-GUESTBENCH line: " + e.getMessage() + "\n"
                    + run.transcript());
        }
        if (!json.path("ok").asBoolean()) {
            throw new IllegalStateException("the guest bench failed: " + json.path("error").asText() + "\n"
                    + run.transcript());
        }
        return new PerfReport(PREFIX + text, json);
    }

    /** A figure of a device; throws if the guest did not report it. */
    public double figure(String device, String name) {
        return optional(device, name).orElseThrow(() -> new IllegalStateException("no figure " + device + "."
                + name + " in " + line));
    }

    /** A figure that may be absent (null), such as the shared-memory read when no register was named. */
    public OptionalDouble optional(String device, String name) {
        JsonNode n = json.path(device).get(name);
        return n != null && n.isNumber() ? OptionalDouble.of(n.asDouble()) : OptionalDouble.empty();
    }

    /** The cost of the guest's clock read that brackets every latency sample, in nanoseconds. */
    public double clockNanos() {
        return json.path("clock_ns").asDouble();
    }

    /** Seconds the perf mode took in the guest. */
    public double seconds() {
        return json.path("seconds").asDouble();
    }
}
