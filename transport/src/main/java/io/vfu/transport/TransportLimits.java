package io.vfu.transport;

import io.vfu.protocol.Header;

/**
 * What one side of a connection accepts per message.
 *
 * @param maxMessageSize largest {@code size} (header included) accepted; a larger header is a framing error
 *                       and closes the session, checked before any payload is allocated
 * @param maxMsgFds      most fds accepted with one message (spec VERSION capability {@code max_msg_fds});
 *                       a message with more is consumed, its fds closed, and it is refused on its own
 */
public record TransportLimits(long maxMessageSize, int maxMsgFds) {

    /** Spec "Version": the receiver assumes max_msg_fds 1 when none was negotiated; we accept QEMU's 16. */
    public static final int DEFAULT_MAX_MSG_FDS = 16;

    /** 1 MiB of data (QEMU's max_data_xfer_size) plus room for the largest fixed command layout. */
    public static final long DEFAULT_MAX_MESSAGE_SIZE = (1L << 20) + 4096;

    public static final TransportLimits DEFAULT =
            new TransportLimits(DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_MSG_FDS);

    /** Linux accepts at most 253 fds in one SCM_RIGHTS message (SCM_MAX_FD). */
    public static final int SCM_MAX_FD = 253;

    public TransportLimits {
        if (maxMessageSize < Header.SIZE || maxMessageSize > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("maxMessageSize must be in [16, 2^32-1]: " + maxMessageSize);
        }
        if (maxMsgFds < 0 || maxMsgFds > SCM_MAX_FD) {
            throw new IllegalArgumentException("maxMsgFds must be in [0, 253]: " + maxMsgFds);
        }
    }
}
