package io.vfu.transport;

import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;

/**
 * A well-framed message arrived with more fds than {@link TransportLimits#maxMsgFds()} (or more than the
 * kernel could hand over). The message was consumed whole, so the stream is still in sync, and every fd that
 * came with it has already been closed. Its receiver answers a command with an {@link Errno#EINVAL} error
 * reply; a reply of that kind fails the request it answers. Not an {@code IOException}: the session lives on.
 */
public final class TooManyFdsException extends Exception {

    private final Header header;
    private final int received;

    public TooManyFdsException(Header header, int received, int max) {
        super("message " + header.msgId() + " (command " + header.command() + ") carried " + received
                + " fds, at most " + max + " accepted", null, false, false);
        this.header = header;
        this.received = received;
    }

    /** The header of the refused message. */
    public Header header() {
        return header;
    }

    /** How many fds arrived (all now closed); -1 when the kernel truncated the list (MSG_CTRUNC). */
    public int received() {
        return received;
    }

    /** The errno a command refused this way is answered with. */
    public Errno errno() {
        return Errno.EINVAL;
    }
}
