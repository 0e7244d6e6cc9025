package io.vfu.transport;

import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;

/** The peer answered a request with an error reply (spec "Header": Error flag, errno in {@code error}). */
public final class ErrorReplyException extends Exception {

    private final Header header;

    public ErrorReplyException(Header header) {
        super("command " + header.command() + " (msg_id " + header.msgId() + ") failed: errno " + header.error()
                + (Errno.fromCode(header.error()) == null ? "" : " " + Errno.fromCode(header.error())),
                null, false, false);
        this.header = header;
    }

    /** The reply header. */
    public Header header() {
        return header;
    }

    /** The errno the peer sent (0 is allowed by the spec: "may be zero even if the Error bit is set"). */
    public long errno() {
        return header.error();
    }
}
