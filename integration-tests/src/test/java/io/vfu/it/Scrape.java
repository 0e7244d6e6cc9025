package io.vfu.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed Prometheus text exposition (format 0.0.4): one {@link Sample} per series line. Enough of the format
 * for what our registry writes: {@code name{k="v",...} value}, comments skipped, label values without escaped
 * quotes.
 */
record Scrape(List<Sample> samples, String text) {

    record Sample(String name, Map<String, String> labels, double value) {
        boolean matches(String wanted, Map<String, String> subset) {
            return name.equals(wanted) && labels.entrySet().containsAll(subset.entrySet());
        }
    }

    static Scrape parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                String body = line.substring(brace + 1, line.lastIndexOf('}'));
                int i = 0;
                while (i < body.length()) {
                    int eq = body.indexOf('=', i);
                    int open = body.indexOf('"', eq);
                    int close = body.indexOf('"', open + 1);
                    labels.put(body.substring(i, eq).strip(), body.substring(open + 1, close));
                    i = close + 1;
                    if (i < body.length() && body.charAt(i) == ',') {
                        i++;
                    }
                }
            } else {
                name = line.substring(0, space);
            }
            out.add(new Sample(name, Map.copyOf(labels), Double.parseDouble(line.substring(space + 1))));
        }
        return new Scrape(List.copyOf(out), text);
    }

    /** Sum of the series named {@code name} whose labels include every pair of {@code labels}; 0 if none. */
    double sum(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.matches(name, labels)).mapToDouble(Sample::value).sum();
    }

    double sum(String name) {
        return sum(name, Map.of());
    }

    /** Whether any series named {@code name} with these labels exists. */
    boolean has(String name, Map<String, String> labels) {
        return samples.stream().anyMatch(s -> s.matches(name, labels));
    }

    /** The count of a command as the server recorded it ({@code vfu_command_seconds_count}). */
    long commands(String command) {
        return (long) sum("vfu_command_seconds_count", Map.of("command", command));
    }
}
