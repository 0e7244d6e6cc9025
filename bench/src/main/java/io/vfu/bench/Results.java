package io.vfu.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The figures of one harness run, in insertion order, printed as a table or as one JSON object. A
 * {@linkplain #section section} is a set of columns (e.g. one per garbage collector) with the same figures:
 * a nested object in JSON, its own table (figures as rows, columns side by side) after the main one.
 */
final class Results {

    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    /** A nested set of figures per column name, with a title for its table. */
    record Section(String title, Map<String, Results> columns) {
    }

    void put(String key, Object value) {
        values.put(key, value);
    }

    void put(String key, Object value, String note) {
        values.put(key, value);
        notes.put(key, note);
    }

    /** Adds {@code columns} (in their order) under {@code key}; the notes of the first column's figures are kept. */
    void section(String key, String title, Map<String, Results> columns) {
        values.put(key, new Section(title, Collections.unmodifiableMap(new LinkedHashMap<>(columns))));
    }

    Map<String, Object> values() {
        return Collections.unmodifiableMap(values);
    }

    double number(String key) {
        return ((Number) values.get(key)).doubleValue();
    }

    String toJson() {
        StringBuilder b = new StringBuilder();
        appendJson(b, "");
        return b.append('\n').toString();
    }

    private void appendJson(StringBuilder b, String indent) {
        b.append('{');
        String inner = indent + "  ";
        boolean first = true;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            b.append(first ? "" : ",").append('\n').append(inner).append('"').append(e.getKey()).append("\": ");
            first = false;
            switch (e.getValue()) {
                case String s -> b.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
                case Double d -> b.append(Double.isFinite(d) ? format(d) : "null");
                case Section s -> {
                    b.append('{');
                    boolean firstColumn = true;
                    for (Map.Entry<String, Results> c : s.columns().entrySet()) {
                        b.append(firstColumn ? "" : ",").append('\n').append(inner).append("  \"")
                                .append(c.getKey()).append("\": ");
                        firstColumn = false;
                        c.getValue().appendJson(b, inner + "  ");
                    }
                    b.append('\n').append(inner).append('}');
                }
                default -> b.append(e.getValue());
            }
        }
        b.append('\n').append(indent).append('}');
    }

    String toTable() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-34s %16s  %s%n", "figure", "value", "note"));
        values.forEach((k, v) -> {
            if (!(v instanceof Section)) {
                b.append(String.format("%-34s %16s  %s%n", k, cell(v), notes.getOrDefault(k, "")));
            }
        });
        values.forEach((k, v) -> {
            if (v instanceof Section s) {
                appendSection(b, k, s);
            }
        });
        return b.toString();
    }

    private static void appendSection(StringBuilder b, String key, Section s) {
        b.append(String.format("%n%s (JSON key \"%s\")%n", s.title(), key));
        Set<String> rows = new LinkedHashSet<>();
        s.columns().values().forEach(r -> rows.addAll(r.values.keySet()));
        // Each column is as wide as its widest cell (at least 10), so a long value never runs into the next.
        Map<String, Integer> width = new LinkedHashMap<>();
        s.columns().forEach((name, r) -> width.put(name, rows.stream().map(row -> cell(r.values.get(row)))
                .mapToInt(String::length).reduce(Math.max(10, name.length()), Math::max)));
        b.append(String.format("%-26s", "figure"));
        width.forEach((name, w) -> b.append(String.format(" %" + w + "s", name)));
        b.append("  note").append(System.lineSeparator());
        Results firstColumn = s.columns().values().stream().findFirst().orElse(new Results());
        for (String row : rows) {
            b.append(String.format("%-26s", row));
            s.columns().forEach((name, r) -> b.append(String.format(" %" + width.get(name) + "s",
                    cell(r.values.get(row)))));
            b.append("  ").append(firstColumn.notes.getOrDefault(row, "")).append(System.lineSeparator());
        }
    }

    private static String cell(Object v) {
        return v == null ? "-" : v instanceof Double d ? format(d) : String.valueOf(v);
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
