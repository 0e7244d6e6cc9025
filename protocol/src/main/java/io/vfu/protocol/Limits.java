package io.vfu.protocol;

/**
 * The receive limits a decoder enforces for one session (spec "Message sizes" and "Version").
 *
 * @param maxMessageSize  largest whole message (header included) accepted; larger is a framing error
 * @param maxDataXferSize largest data count in REGION/DMA/MIG read and write messages (E2BIG beyond)
 * @param maxMsgFds       most file descriptors accepted with one message (EINVAL beyond)
 */
public record Limits(long maxMessageSize, long maxDataXferSize, int maxMsgFds) {

    /** Room for the fixed parts and bounded variable structures (caps, SET_IRQS bools, JSON) beyond data. */
    public static final long HEADROOM = 64 * 1024;

    /** Spec default max_data_xfer_size. */
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;

    /** Limits before negotiation: spec defaults (1 MiB data, 1 fd). */
    public static final Limits DEFAULT = of(DEFAULT_MAX_DATA_XFER_SIZE, 1);

    public Limits {
        if (maxMessageSize < Header.SIZE || maxMessageSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxMessageSize must be in [16, 2^31-1]: " + maxMessageSize);
        }
        if (maxDataXferSize < 0 || maxDataXferSize > maxMessageSize) {
            throw new IllegalArgumentException("maxDataXferSize must be in [0, maxMessageSize]");
        }
        if (maxMsgFds < 0) {
            throw new IllegalArgumentException("maxMsgFds must be >= 0");
        }
    }

    /**
     * Limits for a data-transfer size: the largest message is the data plus {@link #HEADROOM}, enough for
     * every fixed structure (the largest data message adds 32 bytes of header and fields).
     */
    public static Limits of(long maxDataXferSize, int maxMsgFds) {
        return new Limits(Math.addExact(maxDataXferSize, HEADROOM), maxDataXferSize, maxMsgFds);
    }
}
