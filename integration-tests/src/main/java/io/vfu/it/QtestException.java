package io.vfu.it;

/** A qtest command failed, QEMU exited, or QEMU did not answer in time. The message carries QEMU's stderr tail. */
public final class QtestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public QtestException(String message) {
        super(message);
    }

    public QtestException(String message, Throwable cause) {
        super(message, cause);
    }
}
