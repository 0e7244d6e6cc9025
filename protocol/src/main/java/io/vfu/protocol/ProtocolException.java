package io.vfu.protocol;

/**
 * Every error the codec raises. The two kinds are kept apart because the server reacts differently:
 * a {@link FramingException} means the byte stream can no longer be trusted and the session is closed;
 * a {@link MessageException} means one well-framed message was bad and is answered with an error reply.
 */
public abstract sealed class ProtocolException extends Exception
        permits FramingException, MessageException {

    protected ProtocolException(String message) {
        super(message, null, false, false);
    }
}
