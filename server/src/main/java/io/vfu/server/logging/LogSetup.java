package io.vfu.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.vfu.server.cli.LogOptions;
import io.vfu.server.session.CommandTrace;
import org.slf4j.LoggerFactory;

/**
 * Configures the server binary's Logback from {@link LogOptions}, in code (no {@code logback.xml} is shipped): one
 * appender on stderr, text or JSON lines, the root at the chosen level, and the {@link CommandTrace} logger at
 * TRACE for {@code --trace}. Device logs ({@code System.Logger}) reach the same appender through SLF4J's
 * platform-logging bridge.
 */
public final class LogSetup {

    /** The system property with which a user names a Logback configuration file of their own. */
    public static final String USER_CONFIG = "logback.configurationFile";
    /** The text format: local time with offset, level, logger's short name, message. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n";

    private LogSetup() {
    }

    /**
     * Applies {@code options}, unless the user named a Logback file with {@code -Dlogback.configurationFile=},
     * which then rules alone, or SLF4J is bound to another backend (the server embedded in an application).
     */
    public static void apply(LogOptions options) {
        // Rule: a configuration file the user named wins over the options (Logback has already read it).
        if (System.getProperty(USER_CONFIG) != null) {
            return;
        }
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        context.reset();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("stderr");
        // Rule: logs go to stderr; stdout carries only the ready line and the server's own lines.
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder(options.format(), context));
        stderr.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(options.level().name()));
        root.addAppender(stderr);
        if (options.trace()) {
            context.getLogger(CommandTrace.class).setLevel(Level.TRACE);
        }
    }

    private static Encoder<ILoggingEvent> encoder(LogOptions.Format format, LoggerContext context) {
        Encoder<ILoggingEvent> encoder;
        if (format == LogOptions.Format.JSON) {
            encoder = new JsonLineEncoder();
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern(TEXT_PATTERN);
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }
}
