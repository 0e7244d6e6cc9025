package io.vfu.transport;

import java.io.IOException;

/**
 * A send to the peer made no progress within the transport's send bound: the peer stopped reading. The stream
 * is broken (part of a message may be out) and the transport has been shut down.
 */
public final class SendTimeoutException extends IOException {

    public SendTimeoutException(String message) {
        super(message);
    }
}
