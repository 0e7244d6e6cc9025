package io.vfu.protocol;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The server side of VERSION negotiation (spec "VFIO_USER_VERSION"): from the client's proposal and the
 * server's own offer, the reply and the limits both directions then use.
 *
 * <p>Rules: the major must equal ours, otherwise the server closes the session ({@link FramingException});
 * the reply's minor is the lesser of both. Values are clamped to what QEMU 11 accepts in a reply:
 * max_msg_fds at most {@link #QEMU_MAX_MSG_FDS}, max_data_xfer_size at most {@link #QEMU_MAX_DATA_XFER_SIZE},
 * max_dma_maps at most 65535, migration max_bitmap_size at most 256 MiB.
 *
 * <ul>
 *   <li>max_msg_fds: what we receive, our own limit (clamped).</li>
 *   <li>max_data_xfer_size: the smaller of ours and the client's, because QEMU uses the reply's value for both
 *       directions (it bounds our DMA_READ/WRITE too).</li>
 *   <li>max_dma_maps: the smaller; pgsizes: the intersection, which must not be empty (else EINVAL: our
 *       server maps 4 KiB pages, so a client without the 4 KiB bit is refused).</li>
 *   <li>migration, write_multiple, twin_socket: only when both sides offer them, so the reply's capability
 *       set is a subset of the client's. The numeric limits are always written (see
 *       {@link CapabilitiesJson}); they describe the sender, not a feature.</li>
 * </ul>
 */
public final class VersionNegotiation {

    public static final int MAJOR = 0;
    public static final int MINOR = 0;
    public static final int QEMU_MAX_MSG_FDS = 16;
    public static final long QEMU_MAX_DATA_XFER_SIZE = 64L << 20;

    private VersionNegotiation() {
    }

    /**
     * The outcome.
     *
     * @param reply      what to send back
     * @param inbound    the limits for decoding what the client sends
     * @param outbound   the limits for what we send: the client's max_msg_fds and the agreed transfer size
     * @param twinSocket whether the reply enables twin-socket mode (the caller attaches the socket as fd 0)
     */
    public record Result(Version.Reply reply, Limits inbound, Limits outbound, boolean twinSocket) {
    }

    /** Negotiates against our own version {@link #MAJOR}.{@link #MINOR}. */
    public static Result negotiate(Version.Request client, Capabilities server)
            throws FramingException, MessageException {
        return negotiate(client, MAJOR, MINOR, server);
    }

    /**
     * @throws FramingException a major we do not speak: the session is closed
     * @throws MessageException EINVAL when the client's page sizes share none with ours
     */
    public static Result negotiate(Version.Request client, int major, int minor, Capabilities server)
            throws FramingException, MessageException {
        if (client.major() != major) {
            throw new FramingException("client proposes major " + client.major() + ", we speak " + major);
        }
        Capabilities c = client.capabilities();
        long pgsizes = c.pgsizes() & server.pgsizes();
        // Rule: a client whose DMA pages we cannot map gets EINVAL, which says why; it may propose again.
        if (pgsizes == 0) {
            throw Checks.inval("VERSION: no common DMA page size (client 0x" + Long.toHexString(c.pgsizes())
                    + ", server 0x" + Long.toHexString(server.pgsizes()) + ")");
        }
        int maxMsgFds = Math.min(server.maxMsgFds(), QEMU_MAX_MSG_FDS);
        long xfer = Math.min(Math.min(server.maxDataXferSize(), c.maxDataXferSize()), QEMU_MAX_DATA_XFER_SIZE);
        long dmaMaps = Math.min(Math.min(server.maxDmaMaps(), c.maxDmaMaps()), Capabilities.DEFAULT_MAX_DMA_MAPS);
        Optional<Capabilities.Migration> migration = Optional.empty();
        if (c.migration().isPresent() && server.migration().isPresent()) {
            Capabilities.Migration ours = server.migration().get();
            long bitmap = Math.min(Math.min(ours.maxBitmapSize(), c.migration().get().maxBitmapSize()),
                    Capabilities.Migration.DEFAULT_MAX_BITMAP_SIZE);
            migration = Optional.of(new Capabilities.Migration(ours.pgsize(), bitmap));
        }
        boolean twin = c.twinSocket().map(Capabilities.TwinSocket::supported).orElse(false)
                && server.twinSocket().map(Capabilities.TwinSocket::supported).orElse(false);
        Optional<Capabilities.TwinSocket> twinCap = twin
                ? Optional.of(new Capabilities.TwinSocket(true, OptionalInt.of(0)))
                : Optional.empty();
        Capabilities reply = new Capabilities(maxMsgFds, xfer, dmaMaps, pgsizes, migration,
                c.writeMultiple() && server.writeMultiple(), twinCap);
        Version.Reply r = new Version.Reply(major, Math.min(minor, client.minor()), reply);
        return new Result(r, Limits.of(xfer, maxMsgFds), Limits.of(xfer, c.maxMsgFds()), twin);
    }
}
