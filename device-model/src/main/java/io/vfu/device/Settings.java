package io.vfu.device;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a device's settings (a JSON object) with errors that name the key: integers must be integral and in
 * range, IDs may be written as {@code "0x..."} strings, and a key the device does not know is refused with the
 * list of keys it does know, never ignored. Each such error is a {@link SettingException} naming the key.
 */
public final class Settings {

    private final String type;
    private final JsonNode node;

    private Settings(String type, JsonNode node) {
        this.type = type;
        this.node = node;
    }

    /**
     * The settings of a device of {@code type}, which accepts exactly the keys {@code known}.
     *
     * @throws IllegalArgumentException when {@code node} is not an object; a {@link SettingException} when it
     *                                  holds a key not in {@code known}
     */
    public static Settings of(String type, JsonNode node, Set<String> known) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return new Settings(type, com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(type + " settings must be a JSON object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new SettingException(key, "unknown key \"" + key + "\" for a " + type
                        + " device; valid keys: " + String.join(", ", new TreeSet<>(known)), known);
            }
        }
        return new Settings(type, node);
    }

    /** The integer at {@code key} in {@code [min, max]}, or {@code dflt} when absent. */
    public long integer(String key, long dflt, long min, long max) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        // Rule: only an integral JSON number is an integer (64.7 and "64" are mistakes, not 64).
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw bad(key, v, "an integer");
        }
        return inRange(key, v, v.longValue(), min, max);
    }

    /**
     * An ID at {@code key} of {@code bits} bits, as a JSON integer or a {@code "0x..."} hex or decimal string,
     * or {@code dflt} when absent.
     */
    public int id(String key, int dflt, int bits) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        long value;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            value = v.longValue();
        } else if (v.isTextual()) {
            String t = v.textValue().trim().toLowerCase();
            try {
                value = t.startsWith("0x") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw bad(key, v, "an integer or a \"0x...\" string");
            }
        } else {
            throw bad(key, v, "an integer or a \"0x...\" string");
        }
        return (int) inRange(key, v, value, 0, (1L << bits) - 1);
    }

    /** The boolean at {@code key}, or {@code dflt} when absent; only JSON {@code true} and {@code false} are booleans. */
    public boolean bool(String key, boolean dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        // Rule: "true" and 1 are mistakes, not booleans.
        if (!v.isBoolean()) {
            throw bad(key, v, "true or false");
        }
        return v.booleanValue();
    }

    /**
     * The string at {@code key} of at most {@code maxLength} UTF-8 bytes, or {@code dflt} when absent (pass null
     * for "absent is fine and means none"); a number or an object is refused, never turned into text.
     */
    public String text(String key, String dflt, int maxLength) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw bad(key, v, "a string");
        }
        String t = v.textValue();
        if (t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > maxLength) {
            throw bad(key, v, "at most " + maxLength + " bytes long");
        }
        return t;
    }

    /** The string at {@code key}, which must be present and not empty (a path, a name). */
    public String requiredText(String key, int maxLength) {
        String t = text(key, null, maxLength);
        if (t == null || t.isEmpty()) {
            throw new IllegalArgumentException(type + " setting \"" + key + "\" is required");
        }
        return t;
    }

    /** Whether {@code key} is present. */
    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    private long inRange(String key, JsonNode v, long value, long min, long max) {
        if (value < min || value > max) {
            throw bad(key, v, "in [" + min + ", " + max + "]");
        }
        return value;
    }

    private SettingException bad(String key, JsonNode v, String what) {
        return new SettingException(key, type + " setting \"" + key + "\" must be " + what + ", not " + v, Set.of());
    }
}
