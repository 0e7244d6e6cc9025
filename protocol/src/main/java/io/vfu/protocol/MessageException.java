package io.vfu.protocol;

import java.util.Objects;

/** One framed message is invalid; the peer gets an error reply carrying {@link #errno()}. */
public final class MessageException extends ProtocolException {

    private final Errno errno;

    public MessageException(Errno errno, String message) {
        super(message);
        this.errno = Objects.requireNonNull(errno);
    }

    public Errno errno() {
        return errno;
    }

    @Override
    public String getMessage() {
        return errno + ": " + super.getMessage();
    }
}
