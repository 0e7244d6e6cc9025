package io.vfu.server.logging;

/**
 * The names of the structured fields and events in the server's log lines (SLF4J key-values, which
 * {@code --log-format json} writes as top-level fields). They are an interface operators build alerts on: a name
 * never changes once shipped.
 */
public final class LogFields {

    /** The device a line concerns (its config name). */
    public static final String DEVICE = "device";
    /** The client's pid (SO_PEERCRED). */
    public static final String CLIENT_PID = "client_pid";
    /** The client's uid (SO_PEERCRED). */
    public static final String CLIENT_UID = "client_uid";
    /** The client's effective gid (SO_PEERCRED). */
    public static final String CLIENT_GID = "client_gid";
    /** What happened: one of the event names below. */
    public static final String EVENT = "event";
    /** Why a client was refused or disconnected: one of the reasons below. */
    public static final String REASON = "reason";
    /** An errno by name ({@code EBUSY}), when one is known. */
    public static final String ERRNO = "errno";
    /** How long a session lasted, in milliseconds. */
    public static final String DURATION_MS = "duration_ms";
    /** How many commands a client sent in its session. */
    public static final String COMMANDS = "commands";
    /** How many lines of the same kind were held back (rate-limited) before this one. */
    public static final String SUPPRESSED = "suppressed";
    /** A traced command's msg_id. */
    public static final String MSG_ID = "msg_id";
    /** A traced command's name ({@code REGION_READ}). */
    public static final String COMMAND = "command";
    /** A traced command's result: {@code ok}, or the errno name of its error reply. */
    public static final String RESULT = "result";

    /** A client passed the peer check and its session began. */
    public static final String CLIENT_CONNECTED = "client_connected";
    /** A client was not served; {@link #REASON} says why. */
    public static final String CLIENT_REFUSED = "client_refused";
    /** A session ended; {@link #REASON} says how. */
    public static final String CLIENT_DISCONNECTED = "client_disconnected";
    /** A client was closed for not completing VERSION in time. */
    public static final String HANDSHAKE_TIMEOUT = "handshake_timeout";
    /** One client command and its result ({@code --trace}). */
    public static final String CLIENT_COMMAND = "client_command";

    /** Refused: another client's session is active (answered EBUSY). */
    public static final String BUSY = "busy";
    /** Refused: the peer's uid and gid are not allowed (closed unanswered). */
    public static final String UID_NOT_ALLOWED = "uid_not_allowed";
    /** Refused: too many clients were already waiting for admission (answered EBUSY). */
    public static final String ADMISSION_QUEUE_FULL = "admission_queue_full";
    /** Refused and closed unanswered: too many refusals were being answered in the process at once. */
    public static final String REFUSALS_FULL = "refusals_full";
    /** Disconnected: the client closed its end. */
    public static final String EOF = "eof";
    /** Disconnected: the server is stopping or the device was removed. */
    public static final String SERVER_CLOSING = "server_closing";
    /** Disconnected: a send to the client did not complete within the send bound (it stopped reading). */
    public static final String SEND_TIMEOUT = "send_timeout";
    /** Disconnected: the client broke the framing (a bad header or size). */
    public static final String PROTOCOL_ERROR = "protocol_error";
    /** Disconnected: reading from or writing to the socket failed. */
    public static final String IO_ERROR = "io_error";
    /** Disconnected: the server failed unexpectedly while reading (a bug; the exception is logged). */
    public static final String INTERNAL_ERROR = "internal_error";

    private LogFields() {
    }
}
