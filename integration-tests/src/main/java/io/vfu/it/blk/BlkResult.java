package io.vfu.it.blk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The check-mode guest's two lines: {@code VFU-BLK-RESULT {...}} (the fields: size_ok, queues,
 * pattern_ok, discard_ok, fs_ok, bytes_written, bytes_read; the bytes are the program's own O_DIRECT transfers to
 * and from /dev/vda, not the filesystem's) and {@code VFU-BLK-DETAIL {...}} (serial, what the device offered,
 * timings and the guest's error text).
 */
public record BlkResult(String line, JsonNode result, JsonNode detail) {
    public static final String RESULT = "VFU-BLK-RESULT ";
    public static final String DETAIL = "VFU-BLK-DETAIL ";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses both lines of a run; throws {@link IllegalStateException} with the transcript if one is missing. */
    public static BlkResult of(BlkRun run) {
        String result = run.line(RESULT);
        String detail = run.line(DETAIL);
        if (result == null || detail == null) {
            throw new IllegalStateException("the guest printed no " + (result == null ? RESULT : DETAIL).strip()
                    + " line\n" + run.transcript());
        }
        try {
            return new BlkResult(RESULT + result, JSON.readTree(result), JSON.readTree(detail));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unparsable guest result: " + e.getMessage() + "\n" + run.transcript());
        }
    }

    /** A boolean field of the result line: true only if present and true. */
    public boolean flag(String field) {
        JsonNode n = result.get(field);
        return n != null && n.isBoolean() && n.asBoolean();
    }

    /** A number of the result line; throws if missing or not an integer. */
    public long count(String field) {
        JsonNode n = result.get(field);
        if (n == null || !n.isIntegralNumber()) {
            throw new IllegalStateException("result field " + field + " is not a number: " + line);
        }
        return n.asLong();
    }
}
