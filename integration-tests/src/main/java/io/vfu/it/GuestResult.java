package io.vfu.it;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * The two lines the guest test program prints on the console: {@code VFU-GUEST-RESULT {...}} (the issue's
 * result: vectors appended, MSI-X and IMS interrupts fired and received, IMS re-read, budget error, DMA) and
 * {@code VFU-GUEST-DETAIL {...}} (device counters read back, config check, the guest's error messages).
 */
public record GuestResult(String resultJson, JsonNode result, JsonNode detail) {
    public static final String RESULT = "VFU-GUEST-RESULT ";
    public static final String DETAIL = "VFU-GUEST-DETAIL ";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Finds and parses both lines; throws {@link IllegalStateException} naming what is missing. */
    public static GuestResult parse(List<String> console) {
        String result = line(console, RESULT);
        String detail = line(console, DETAIL);
        try {
            return new GuestResult(result, JSON.readTree(result), JSON.readTree(detail));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unparsable guest result: " + e.getMessage() + "\n" + result);
        }
    }

    private static String line(List<String> console, String prefix) {
        for (String l : console) {
            int at = l.indexOf(prefix);
            if (at >= 0) {
                return l.substring(at + prefix.length()).strip();
            }
        }
        throw new IllegalStateException("the guest printed no " + prefix.strip() + " line");
    }

    /** A count of the result line; throws if the field is missing or not a number. */
    public long count(String field) {
        JsonNode n = result.get(field);
        if (n == null || !n.isIntegralNumber()) {
            throw new IllegalStateException("result field " + field + " is not a number: " + resultJson);
        }
        return n.asLong();
    }

    /** A boolean of the result line: true only if present and true. */
    public boolean flag(String field) {
        JsonNode n = result.get(field);
        return n != null && n.isBoolean() && n.asBoolean();
    }

    /** The result line as printed. */
    public String line() {
        return RESULT + resultJson;
    }
}
