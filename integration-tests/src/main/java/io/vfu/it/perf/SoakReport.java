package io.vfu.it.perf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vfu.it.blk.BlkRun;

/**
 * The soak-mode guest's {@code VFU-SOAK {...}} line: interrupts fired and received, those delivered on unmask,
 * the soak's duration, and the device's own delivery counters read back by the guest.
 */
public record SoakReport(String line, JsonNode json) {
    public static final String PREFIX = "VFU-SOAK ";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses the line of a run; throws {@link IllegalStateException} with the transcript if it is missing. */
    public static SoakReport of(BlkRun run) {
        String text = run.line(PREFIX);
        if (text == null) {
            throw new IllegalStateException("the guest printed no VFU-SOAK line\n" + run.transcript());
        }
        try {
            return new SoakReport(PREFIX + text, JSON.readTree(text));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unparsable VFU-SOAK line: " + e.getMessage() + "\n" + run.transcript());
        }
    }

    public long fired() {
        return json.path("fired").asLong();
    }

    public long received() {
        return json.path("received").asLong();
    }

    public long deliveredOnUnmask() {
        return json.path("delivered_on_unmask").asLong();
    }

    public long millis() {
        return json.path("ms").asLong();
    }

    /** The guest's own verdict: every round arrived and the device's counters agree with what it fired. */
    public boolean ok() {
        return json.path("ok").asBoolean();
    }

    /** The only passing result: the guest's verdict, and every interrupt fired was received. */
    public boolean passed() {
        return ok() && fired() > 0 && fired() == received();
    }

    public String error() {
        return json.path("error").asText();
    }
}
