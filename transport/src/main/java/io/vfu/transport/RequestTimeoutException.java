package io.vfu.transport;

import java.util.concurrent.TimeoutException;

/** No reply arrived for a request within its timeout; a late reply is dropped (and its fds closed). */
public final class RequestTimeoutException extends TimeoutException {

    public RequestTimeoutException(String message) {
        super(message);
    }
}
