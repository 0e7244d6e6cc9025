package io.vfu.server.cli;

import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The logging options of {@code vfu-server} (a picocli mixin of {@link ServerCommand}). */
final class LoggingOptions {

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "${env:VFU_LOG_LEVEL:-info}",
            converter = LevelConverter.class,
            description = "the least severe level logged: error, warn, info (default), debug or trace; logs go "
                    + "to stderr (env VFU_LOG_LEVEL)")
    private LogOptions.Level level;

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "${env:VFU_LOG_FORMAT:-text}",
            converter = FormatConverter.class,
            description = "text (default) or json: one JSON object a line with time, level, logger, message and "
                    + "the event's fields (env VFU_LOG_FORMAT)")
    private LogOptions.Format format;

    @Option(names = "--trace",
            description = "log every client command with its msg_id, command and result (errno name on error)")
    private boolean trace;

    LogOptions options() {
        return new LogOptions(level, format, trace);
    }

    /** A level name, in any case. */
    static final class LevelConverter implements CommandLine.ITypeConverter<LogOptions.Level> {
        @Override
        public LogOptions.Level convert(String s) {
            try {
                return LogOptions.Level.valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("error, warn, info, debug or trace, not '" + s + "'");
            }
        }
    }

    /** A format name, in any case. */
    static final class FormatConverter implements CommandLine.ITypeConverter<LogOptions.Format> {
        @Override
        public LogOptions.Format convert(String s) {
            try {
                return LogOptions.Format.valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("text or json, not '" + s + "'");
            }
        }
    }
}
