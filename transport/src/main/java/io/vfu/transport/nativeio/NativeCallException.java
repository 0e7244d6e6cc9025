package io.vfu.transport.nativeio;

import java.io.IOException;

/** A libc call failed; carries the {@code errno} it reported. */
public final class NativeCallException extends IOException {

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno) {
        super(call + " failed: errno " + errno);
        this.call = call;
        this.errno = errno;
    }

    /** The name of the libc function that failed. */
    public String call() {
        return call;
    }

    /** The positive errno the call reported. */
    public int errno() {
        return errno;
    }
}
