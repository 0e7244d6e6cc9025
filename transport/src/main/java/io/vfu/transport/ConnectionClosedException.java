package io.vfu.transport;

import java.io.IOException;

/** A request could not complete because its connection closed (the cause, if any, says why). */
public final class ConnectionClosedException extends IOException {

    public ConnectionClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
