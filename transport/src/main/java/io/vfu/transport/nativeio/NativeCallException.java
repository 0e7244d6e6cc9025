package io.vfu.transport.nativeio;

import java.io.IOException;

/**
 * A libc call failed; carries the {@code errno} it reported. The message names the call and the errno by name and
 * text, e.g. {@code bind: ENOENT (No such file or directory)}; {@link #reason()} is the part after the call.
 */
public final class NativeCallException extends IOException {

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno) {
        super(call + ": " + ErrnoNames.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The name of the libc function that failed. */
    public String call() {
        return call;
    }

    /** The errno's name and text, e.g. {@code ENOENT (No such file or directory)}. */
    public String reason() {
        return ErrnoNames.describe(errno);
    }

    /** The positive errno the call reported. */
    public int errno() {
        return errno;
    }
}
