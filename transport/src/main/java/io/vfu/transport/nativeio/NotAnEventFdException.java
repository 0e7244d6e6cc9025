package io.vfu.transport.nativeio;

/** An fd passed as an interrupt target is not an eventfd (a pipe, socket, file or device). */
public final class NotAnEventFdException extends Exception {

    public NotAnEventFdException(String message) {
        super(message);
    }
}
