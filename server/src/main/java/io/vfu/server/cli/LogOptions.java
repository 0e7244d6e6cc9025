package io.vfu.server.cli;

/**
 * How the server logs, from {@code --log-level}, {@code --log-format} and {@code --trace}. Log lines always go to
 * stderr: stdout carries only the ready line and the server's own lines.
 *
 * @param level  the least severe level logged
 * @param format one human-readable line or one JSON object per event
 * @param trace  whether every client command is logged with its msg_id and result, whatever {@code level} is
 */
public record LogOptions(Level level, Format format, boolean trace) {

    /** What the server logs when no option says otherwise: INFO and above, as text, no command trace. */
    public static final LogOptions DEFAULT = new LogOptions(Level.INFO, Format.TEXT, false);

    public LogOptions {
        java.util.Objects.requireNonNull(level, "level");
        java.util.Objects.requireNonNull(format, "format");
    }

    /** Log levels, most severe first (SLF4J's). */
    public enum Level {
        ERROR, WARN, INFO, DEBUG, TRACE
    }

    /** Log line formats. */
    public enum Format {
        /** One line a human reads: time, level, logger and message. */
        TEXT,
        /** One JSON object a line: time, level, logger, message and the event's fields (device, client_pid...). */
        JSON
    }
}
