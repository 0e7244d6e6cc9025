package io.vfu.server.config;

import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A mistake in a config file, located: the file, the line and column, and the JSON path of the key or value
 * ({@code devices[1].msixVector}), then what is wrong in words, and for an unknown key the valid ones. Its
 * message reads {@code vfu.json:4:41: devices[1].msixVector: device dev1: unknown key "msixVector" ...}.
 */
public final class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;
    private final String path;
    private final String problem;
    private final SortedSet<String> validKeys;

    /**
     * @param source    the file name (or another name for the text)
     * @param line      1-based line, or 0 when unknown
     * @param column    1-based column, or 0 when unknown
     * @param path      the JSON path, e.g. {@code devices[1].msixVector}; empty for the whole document
     * @param problem   what is wrong
     * @param validKeys the keys valid where an unknown key was found; empty otherwise
     */
    public ConfigException(String source, int line, int column, String path, String problem, Set<String> validKeys,
                           Throwable cause) {
        super(format(source, line, column, path, problem), cause);
        this.source = source;
        this.line = line;
        this.column = column;
        this.path = path;
        this.problem = problem;
        this.validKeys = new TreeSet<>(validKeys);
    }

    private static String format(String source, int line, int column, String path, String problem) {
        return source + (line > 0 ? ":" + line + ":" + column : "") + ": " + (path.isEmpty() ? "" : path + ": ")
                + problem;
    }

    /** The file name the error is in. */
    public String source() {
        return source;
    }

    /** The 1-based line, if known. */
    public Optional<Integer> line() {
        return line > 0 ? Optional.of(line) : Optional.empty();
    }

    /** The 1-based column, if known. */
    public Optional<Integer> column() {
        return column > 0 ? Optional.of(column) : Optional.empty();
    }

    /** The JSON path of the key or value, e.g. {@code devices[1].msixVector}; empty for the whole document. */
    public String path() {
        return path;
    }

    /** What is wrong, without the location. */
    public String problem() {
        return problem;
    }

    /** The keys that are valid where an unknown key was found, sorted; empty for any other mistake. */
    public SortedSet<String> validKeys() {
        return new TreeSet<>(validKeys);
    }
}
