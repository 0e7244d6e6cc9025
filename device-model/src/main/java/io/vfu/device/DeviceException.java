package io.vfu.device;

/**
 * A request the device model refuses. The model never throws anything else for a bad guest or client request;
 * the server maps {@link #kind()} to an errno (the model does not know protocol errno values).
 */
public final class DeviceException extends RuntimeException {

    /** Why a request was refused. */
    public enum Kind {
        /** Malformed request: bad index, flag combination, width or alignment (server: EINVAL). */
        INVALID_ARGUMENT,
        /** Offset/length outside a region or an IRQ range (server: EINVAL or EFAULT). */
        OUT_OF_RANGE,
        /** A shared resource is exhausted, e.g. the vector budget (server: ENOSPC). */
        NO_SPACE,
        /** Well-formed but not implemented by this device (server: ENOTSUP). */
        NOT_SUPPORTED
    }

    private final Kind kind;

    public DeviceException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static DeviceException invalid(String message) {
        return new DeviceException(Kind.INVALID_ARGUMENT, message);
    }

    public static DeviceException outOfRange(String message) {
        return new DeviceException(Kind.OUT_OF_RANGE, message);
    }
}
