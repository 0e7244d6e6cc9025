package io.vfu.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The figures of one harness run, in insertion order, printed as a table or as one JSON object. */
final class Results {

    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    void put(String key, Object value) {
        values.put(key, value);
    }

    void put(String key, Object value, String note) {
        values.put(key, value);
        notes.put(key, note);
    }

    Map<String, Object> values() {
        return Collections.unmodifiableMap(values);
    }

    double number(String key) {
        return ((Number) values.get(key)).doubleValue();
    }

    String toJson() {
        StringBuilder b = new StringBuilder("{");
        values.forEach((k, v) -> {
            b.append(b.length() == 1 ? "" : ",").append("\n  \"").append(k).append("\": ");
            switch (v) {
                case String s -> b.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
                case Double d -> b.append(Double.isFinite(d) ? format(d) : "null");
                default -> b.append(v);
            }
        });
        return b.append("\n}\n").toString();
    }

    String toTable() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-34s %16s  %s%n", "figure", "value", "note"));
        values.forEach((k, v) -> b.append(String.format("%-34s %16s  %s%n", k,
                v instanceof Double d ? format(d) : String.valueOf(v), notes.getOrDefault(k, ""))));
        return b.toString();
    }

    private static String format(double d) {
        double a = Math.abs(d);
        if (a >= 1000) {
            return String.format("%.0f", d);
        }
        if (a >= 10) {
            return String.format("%.1f", d);
        }
        return String.format("%.3f", d);
    }
}
