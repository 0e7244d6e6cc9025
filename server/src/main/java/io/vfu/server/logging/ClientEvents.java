package io.vfu.server.logging;

import static io.vfu.server.logging.LogFields.CLIENT_GID;
import static io.vfu.server.logging.LogFields.CLIENT_PID;
import static io.vfu.server.logging.LogFields.CLIENT_UID;
import static io.vfu.server.logging.LogFields.COMMANDS;
import static io.vfu.server.logging.LogFields.DEVICE;
import static io.vfu.server.logging.LogFields.DURATION_MS;
import static io.vfu.server.logging.LogFields.ERRNO;
import static io.vfu.server.logging.LogFields.EVENT;
import static io.vfu.server.logging.LogFields.REASON;

import io.vfu.transport.PeerCredentials;
import io.vfu.transport.nativeio.ErrnoNames;
import io.vfu.transport.nativeio.NativeCallException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The lines an operator reads about clients: connected, refused (and why), closed for a missed handshake, and
 * disconnected (after how long, how many commands, and how). Each carries the device, the client's pid and uid and
 * an {@link LogFields event name} as key-values, so {@code --log-format json} can be filtered without parsing
 * messages. A client that was served or simply refused is INFO; one refused for its uid, or a session that ended
 * in an error, is WARN. Refusals and missed handshakes are rate-limited per device and reason ({@link #BURST}
 * lines, then one each {@code PERIOD / BURST}); the next line that passes says how many were held back.
 */
public final class ClientEvents {

    private static final Logger LOG = LoggerFactory.getLogger(ClientEvents.class);
    /** Refusals and missed handshakes are what a flood of connects makes: 20 lines, then one a second, per kind. */
    static final int BURST = 20;
    static final Duration PERIOD = Duration.ofSeconds(20);
    private static final LogRateLimit FLOOD = new LogRateLimit(BURST, PERIOD.toNanos(), System::nanoTime);

    private ClientEvents() {
    }

    /** A client passed the peer check and its session began. */
    public static void connected(String device, PeerCredentials peer) {
        event(Level.INFO, LogFields.CLIENT_CONNECTED, device, peer)
                .log("{}: {} connected", device, who(peer));
    }

    /**
     * A client was not served.
     *
     * @param peer   its credentials, or {@code null} when they could not be read
     * @param reason one of {@link LogFields#BUSY}, {@link LogFields#UID_NOT_ALLOWED},
     *               {@link LogFields#ADMISSION_QUEUE_FULL}, {@link LogFields#REFUSALS_FULL}
     * @param detail what the client saw, for the human reader
     */
    public static void refused(String device, PeerCredentials peer, String reason, String detail) {
        // Rule: a uid refusal is a configuration matter (WARN); a busy device is normal operation (INFO).
        Level level = LogFields.UID_NOT_ALLOWED.equals(reason) ? Level.WARN : Level.INFO;
        if (!LOG.isEnabledForLevel(level)) {
            return;
        }
        long held = FLOOD.admit(device + '\0' + LogFields.CLIENT_REFUSED + '\0' + reason);
        if (held < 0) {
            return;
        }
        LoggingEventBuilder b = suppressed(event(level, LogFields.CLIENT_REFUSED, device, peer), held)
                .addKeyValue(REASON, reason);
        if (!LogFields.UID_NOT_ALLOWED.equals(reason) && !LogFields.REFUSALS_FULL.equals(reason)) {
            b = b.addKeyValue(ERRNO, "EBUSY");
        }
        b.log("{}: {} refused: {} ({}){}", device, who(peer), reason, detail, heldBack(held));
    }

    /** A client was closed for not completing VERSION within {@code bound}. */
    public static void handshakeTimeout(String device, PeerCredentials peer, Duration bound) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        long held = FLOOD.admit(device + '\0' + LogFields.HANDSHAKE_TIMEOUT);
        if (held < 0) {
            return;
        }
        suppressed(event(Level.INFO, LogFields.HANDSHAKE_TIMEOUT, device, peer), held)
                .log("{}: {} closed: no VERSION within {} ms{}", device, who(peer), bound.toMillis(), heldBack(held));
    }

    /** Adds how many lines of this kind were held back before this one, when there were any. */
    private static LoggingEventBuilder suppressed(LoggingEventBuilder b, long held) {
        return held > 0 ? b.addKeyValue(LogFields.SUPPRESSED, held) : b;
    }

    private static String heldBack(long held) {
        return held > 0 ? " [" + held + " more like this not logged]" : "";
    }

    /**
     * A session ended.
     *
     * @param nanos    how long it lasted
     * @param commands how many commands the client sent
     * @param reason   one of {@link LogFields#EOF}, {@link LogFields#SERVER_CLOSING},
     *                 {@link LogFields#HANDSHAKE_TIMEOUT}, {@link LogFields#SEND_TIMEOUT},
     *                 {@link LogFields#PROTOCOL_ERROR}, {@link LogFields#IO_ERROR}, {@link LogFields#INTERNAL_ERROR}
     * @param cause    the error that ended it, or {@code null}
     */
    public static void disconnected(String device, PeerCredentials peer, long nanos, long commands, String reason,
            Throwable cause) {
        // Rule: a session the client or the server ended on purpose is INFO; one an error ended is WARN.
        Level level = cause == null ? Level.INFO : Level.WARN;
        long millis = nanos / 1_000_000;
        LoggingEventBuilder b = event(level, LogFields.CLIENT_DISCONNECTED, device, peer)
                .addKeyValue(REASON, reason).addKeyValue(DURATION_MS, millis).addKeyValue(COMMANDS, commands);
        if (cause instanceof NativeCallException n) {
            b = b.addKeyValue(ERRNO, ErrnoNames.name(n.errno()));
        }
        // Rule: an error the server did not expect (a bug) shows where it happened.
        if (cause != null && !(cause instanceof java.io.IOException)
                && !(cause instanceof io.vfu.protocol.FramingException)) {
            b = b.setCause(cause);
        }
        String seconds = String.format(java.util.Locale.ROOT, "%.1f", millis / 1000.0);
        if (cause == null) {
            b.log("{}: {} disconnected after {} s, {} commands: {}", device, who(peer), seconds, commands, reason);
        } else {
            b.log("{}: {} disconnected after {} s, {} commands: {} ({})", device, who(peer), seconds, commands,
                    reason, cause.getMessage());
        }
    }

    private static LoggingEventBuilder event(Level level, String event, String device, PeerCredentials peer) {
        LoggingEventBuilder b = LOG.atLevel(level).addKeyValue(EVENT, event).addKeyValue(DEVICE, device);
        if (peer != null) {
            b = b.addKeyValue(CLIENT_PID, peer.pid()).addKeyValue(CLIENT_UID, peer.uid())
                    .addKeyValue(CLIENT_GID, peer.gid());
        }
        return b;
    }

    private static String who(PeerCredentials peer) {
        return peer == null ? "client (credentials unknown)"
                : "client pid " + peer.pid() + " uid " + peer.uid() + " gid " + peer.gid();
    }
}
