package io.vfu.server.session;

import static io.vfu.server.logging.LogFields.COMMAND;
import static io.vfu.server.logging.LogFields.DEVICE;
import static io.vfu.server.logging.LogFields.ERRNO;
import static io.vfu.server.logging.LogFields.EVENT;
import static io.vfu.server.logging.LogFields.MSG_ID;
import static io.vfu.server.logging.LogFields.RESULT;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.server.logging.LogFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TRACE line per client command: msg_id, command name and result ({@code ok}, or the errno name of the error
 * reply), for debugging a client ({@code --trace}, or {@code --log-level trace}). Off, it costs one level check
 * per command and allocates nothing: callers ask {@link #enabled()} before they gather anything.
 */
public final class CommandTrace {

    private static final Logger LOG = LoggerFactory.getLogger(CommandTrace.class);

    private CommandTrace() {
    }

    /** Whether commands are traced now (the level may change while the server runs). */
    public static boolean enabled() {
        return LOG.isTraceEnabled();
    }

    /** The command succeeded (answered, or posted with No_reply). */
    static void served(String device, int msgId, int command) {
        LOG.atTrace().addKeyValue(EVENT, LogFields.CLIENT_COMMAND).addKeyValue(DEVICE, device)
                .addKeyValue(MSG_ID, msgId).addKeyValue(COMMAND, name(command)).addKeyValue(RESULT, "ok")
                .log("{}: msg_id {} {} -> ok", device, msgId, name(command));
    }

    /** The command was answered with {@code errno}; {@code why} is the server's reason. */
    static void refused(String device, int msgId, int command, Errno errno, String why) {
        LOG.atTrace().addKeyValue(EVENT, LogFields.CLIENT_COMMAND).addKeyValue(DEVICE, device)
                .addKeyValue(MSG_ID, msgId).addKeyValue(COMMAND, name(command)).addKeyValue(RESULT, errno.name())
                .addKeyValue(ERRNO, errno.name())
                .log("{}: msg_id {} {} -> {} ({})", device, msgId, name(command), errno.name(),
                        withoutPrefix(why, errno.name() + ": "));
    }

    /** The command broke the stream ({@code closes}) or failed unexpectedly (answered EIO). */
    static void failed(String device, int msgId, int command, Exception e, boolean closes) {
        String result = closes ? "connection_closed" : Errno.EIO.name();
        var b = LOG.atTrace().addKeyValue(EVENT, LogFields.CLIENT_COMMAND).addKeyValue(DEVICE, device)
                .addKeyValue(MSG_ID, msgId).addKeyValue(COMMAND, name(command)).addKeyValue(RESULT, result);
        if (!closes) {
            b = b.addKeyValue(ERRNO, Errno.EIO.name());
        }
        b.log("{}: msg_id {} {} -> {} ({})", device, msgId, name(command), result, String.valueOf(e.getMessage()));
    }

    /** {@code why} without a leading errno name that the line already shows. */
    private static String withoutPrefix(String why, String prefix) {
        return why != null && why.startsWith(prefix) ? why.substring(prefix.length()) : String.valueOf(why);
    }

    /** The spec's name of {@code command}, or its number when it has none. */
    private static String name(int command) {
        Command c = Command.fromCode(command);
        return c != null ? c.name() : "command " + command;
    }
}
