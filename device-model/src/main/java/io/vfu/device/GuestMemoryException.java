package io.vfu.device;

/** A guest memory access failed: unmapped address, client error reply, timeout, or a lost session. */
public final class GuestMemoryException extends Exception {

    public GuestMemoryException(String message) {
        super(message);
    }

    public GuestMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
