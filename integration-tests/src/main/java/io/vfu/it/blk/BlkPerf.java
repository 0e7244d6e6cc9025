package io.vfu.it.blk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/** The perf-mode guest's {@code VFU-BLK-PERF {...}} line: medians of {@link BlkPerfPlan#runs()} runs. */
public record BlkPerf(String line, JsonNode json) {
    public static final String PREFIX = "VFU-BLK-PERF ";
    /** The figures, as the guest names them; MB/s are 10^6 bytes per second. */
    public static final List<String> FIGURES = List.of("seq_write_mbps", "seq_read_mbps", "randread_qd1_p50_us",
            "randread_qd1_p99_us", "randread_qd1_iops", "randread_qd32_iops");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses the line of a run; throws {@link IllegalStateException} with the transcript unless it says ok. */
    public static BlkPerf of(BlkRun run) {
        String text = run.line(PREFIX);
        if (text == null) {
            throw new IllegalStateException("the guest printed no VFU-BLK-PERF line\n" + run.transcript());
        }
        JsonNode json;
        try {
            json = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unparsable VFU-BLK-PERF line: " + e.getMessage() + "\n" + run.transcript());
        }
        if (!json.path("ok").asBoolean()) {
            throw new IllegalStateException("the perf run failed: " + json.path("error").asText() + "\n"
                    + run.transcript());
        }
        return new BlkPerf(PREFIX + text, json);
    }

    /** A figure; throws if the guest did not report it. */
    public double figure(String name) {
        JsonNode n = json.get(name);
        if (n == null || !n.isNumber()) {
            throw new IllegalStateException("no figure " + name + " in " + line);
        }
        return n.asDouble();
    }
}
