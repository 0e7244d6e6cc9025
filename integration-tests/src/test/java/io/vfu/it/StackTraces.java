package io.vfu.it;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stack traces in a Java process's log, as {@code Throwable.printStackTrace} and {@code java.util.logging} write
 * them: a line naming the throwable ({@code pkg.Name: message}, possibly after {@code Exception in thread "t" }
 * or {@code Caused by: }) followed by {@code \tat } frames. {@link #unchecked} keeps those of unchecked types,
 * {@link RuntimeException} and {@link Error}: in a server they are bugs (an index out of range, a fault raised
 * as {@link InternalError}), where a checked {@code IOException} is the ordinary end of a connection.
 */
final class StackTraces {

    private static final Pattern THROWABLE = Pattern.compile(
            "^(?:Exception in thread \"[^\"]*\" |Caused by: )?((?:[\\w$]+\\.)+[\\w$]*(?:Exception|Error|Throwable))(?::.*)?$");

    private StackTraces() {
    }

    /**
     * The unchecked throwables in {@code log}, each as {@code Type: message at first frame}, with how often it
     * occurred (message numbers and the frame count as part of the key, so repeats of one fault collapse only
     * when they are the same).
     */
    static Map<String, Integer> unchecked(List<String> log) {
        Map<String, Integer> found = new LinkedHashMap<>();
        for (int i = 0; i + 1 < log.size(); i++) {
            Matcher m = THROWABLE.matcher(log.get(i));
            if (m.matches() && log.get(i + 1).startsWith("\tat ") && isUnchecked(m.group(1))) {
                String line = log.get(i).replaceFirst("^(Exception in thread \"[^\"]*\" |Caused by: )", "");
                found.merge(line.replaceAll("\\d{3,}", "N") + " " + log.get(i + 1).strip(), 1, Integer::sum);
            }
        }
        return found;
    }

    /** Whether {@code type} is a RuntimeException or an Error; a type this JVM cannot load counts as unchecked. */
    private static boolean isUnchecked(String type) {
        try {
            Class<?> c = Class.forName(type, false, StackTraces.class.getClassLoader());
            return RuntimeException.class.isAssignableFrom(c) || Error.class.isAssignableFrom(c);
        } catch (ClassNotFoundException | LinkageError e) {
            return true;
        }
    }
}
