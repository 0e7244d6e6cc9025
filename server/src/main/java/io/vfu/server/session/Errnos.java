package io.vfu.server.session;

import io.vfu.device.DeviceException;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;

/** Maps the device model's refusals onto the errno a vfio-user client sees. */
final class Errnos {

    private Errnos() {
    }

    /**
     * The errno for a {@link DeviceException}: a malformed or out-of-range request is EINVAL (as kernel vfio and
     * libvfio-user answer), an exhausted vector budget ENOSPC, an unimplemented operation EOPNOTSUPP.
     */
    static Errno of(DeviceException e) {
        return switch (e.kind()) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> Errno.EINVAL;
            case NO_SPACE -> Errno.ENOSPC;
            case NOT_SUPPORTED -> Errno.EOPNOTSUPP;
        };
    }

    static MessageException toMessage(DeviceException e) {
        return new MessageException(of(e), e.getMessage());
    }
}
