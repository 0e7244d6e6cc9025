package io.vfu.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stop-the-world pauses in a unified GC log written with {@link #options}: every line naming a
 * {@code Pause} (Serial, Parallel and G1 log one per collection, e.g. {@code Pause Young (Allocation Failure)
 * 69M->1M(247M) 0.128ms}; ZGC logs its three short pauses per cycle under {@code gc+phases}, e.g.
 * {@code Y: Pause Mark Start 0.012ms}) or an {@code Allocation Stall} (a ZGC mutator thread waiting for memory),
 * with the duration that ends the line.
 */
record GcLog(int pauses, double maxMillis, double totalMillis) {

    private static final Pattern PAUSE =
            Pattern.compile("\\b(?:Pause|Allocation Stall)\\b.*?(\\d+(?:\\.\\d+)?)(s|ms|us|ns)\\s*$");

    /** The JVM option that writes the GC and GC-phase events to {@code file} (no rotation). */
    static String options(Path file) {
        return "-Xlog:gc,gc+phases=info:file=" + file + ":uptime,tags:filecount=0";
    }

    static GcLog parse(Path file) throws IOException {
        return parse(Files.readAllLines(file));
    }

    static GcLog parse(List<String> lines) {
        int n = 0;
        double max = 0;
        double total = 0;
        for (String line : lines) {
            Matcher m = PAUSE.matcher(line);
            if (m.find()) {
                double ms = Double.parseDouble(m.group(1)) * switch (m.group(2)) {
                    case "s" -> 1e3;
                    case "ms" -> 1;
                    case "us" -> 1e-3;
                    default -> 1e-6;
                };
                n++;
                max = Math.max(max, ms);
                total += ms;
            }
        }
        return new GcLog(n, max, total);
    }
}
