package io.vfu.protocol;

/** The stream is broken (bad header size, truncated frame, bad type bits): close the session. */
public final class FramingException extends ProtocolException {

    public FramingException(String message) {
        super(message);
    }
}
