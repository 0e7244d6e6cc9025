package io.vfu.server.session;

import io.vfu.device.DeviceException;
import io.vfu.device.VfioDevice;
import io.vfu.protocol.Capabilities;
import io.vfu.protocol.Command;
import io.vfu.protocol.DeviceFeature;
import io.vfu.protocol.DeviceGetInfo;
import io.vfu.protocol.DeviceGetIrqInfo;
import io.vfu.protocol.DeviceGetRegionInfo;
import io.vfu.protocol.DeviceGetRegionIoFds;
import io.vfu.protocol.DeviceReset;
import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaRead;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.DmaWrite;
import io.vfu.protocol.Errno;
import io.vfu.protocol.ErrorReply;
import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.protocol.Limits;
import io.vfu.protocol.Message;
import io.vfu.protocol.MessageDecoder;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.MessageException;
import io.vfu.protocol.MigDataRead;
import io.vfu.protocol.MigDataWrite;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.protocol.RegionWriteMulti;
import io.vfu.protocol.Unknown;
import io.vfu.protocol.Version;
import io.vfu.protocol.VersionNegotiation;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.dma.DmaMapTable;
import io.vfu.server.dma.FileMappings;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.transport.CommandHandler;
import io.vfu.transport.Connection;
import io.vfu.transport.Frame;
import io.vfu.transport.LentFrame;
import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One client session on one device: decodes each command, runs it against the device, and replies. Commands
 * run in arrival order on the connection's reader thread (spec "Command Concurrency"). Nothing here ever waits
 * for a reply from the client: posted writes go out as {@code DMA_WRITE} with No_reply (the client answers
 * only a failure), and message DMA runs on the device's DMA worker.
 *
 * <p>What the session owns and releases at its end (spec "Client Disconnection"): its DMA windows and every
 * eventfd the client passed. The device's own state stays.
 */
public final class Session implements CommandHandler, DeviceHost.Attachment {

    private static final Logger LOG = LoggerFactory.getLogger(Session.class);

    /** What this server offers in VERSION: at most what QEMU 11 accepts, and REGION_WRITE_MULTI. */
    public static final Capabilities SERVER_CAPABILITIES = new Capabilities(
            VersionNegotiation.QEMU_MAX_MSG_FDS, Limits.DEFAULT_MAX_DATA_XFER_SIZE,
            Capabilities.DEFAULT_MAX_DMA_MAPS, Capabilities.DEFAULT_PGSIZES,
            java.util.Optional.empty(), true, java.util.Optional.empty());

    private static final int REGION_READ = Command.REGION_READ.code();
    private static final int REGION_WRITE = Command.REGION_WRITE.code();
    private static final int REGION_WRITE_MULTI = Command.REGION_WRITE_MULTI.code();
    private static final int DMA_WRITE = Command.DMA_WRITE.code();

    private final DeviceHost host;
    private final DmaMapTable dmaMaps;
    private final RegionRead.RequestView readView = new RegionRead.RequestView();
    private final RegionWrite.RequestView writeView = new RegionWrite.RequestView();
    private final RegionWriteMulti.RequestView multiView = new RegionWriteMulti.RequestView();
    private boolean postFailureLogged;
    private volatile Connection connection;
    private volatile SessionGuestMemory guestMemory;
    private final IrqRequests irqRequests;
    private final RegionAccess regions;
    private final DmaMapRequests dmaMapRequests;
    private volatile Limits limits = Limits.DEFAULT;
    private volatile boolean negotiated;
    /** Commands the client sent; written by the reader thread only (see {@link #commands()}). */
    private long commands;

    /**
     * A session for {@code host}; it binds to its connection when the first command arrives.
     *
     * @param files where its client's files are mapped for direct DMA, within the session's and the process's
     *              mapping budgets
     */
    public Session(DeviceHost host, FileMappings files) {
        this.host = host;
        this.dmaMaps = new DmaMapTable((int) Capabilities.DEFAULT_MAX_DMA_MAPS);
        this.irqRequests = new IrqRequests(host);
        this.regions = new RegionAccess(host);
        this.dmaMapRequests = new DmaMapRequests(dmaMaps, files, host);
    }

    private synchronized void bind(Connection c) {
        if (connection == null) {
            // Rule: whatever the reader thread logs (the transport, the device's System.Logger) names the device.
            MDC.put(io.vfu.server.logging.LogFields.DEVICE, host.name());
            guestMemory = new SessionGuestMemory(dmaMaps, c, host.metrics(), Limits.DEFAULT_MAX_DATA_XFER_SIZE);
            connection = c;
        }
    }

    @Override
    public void onCommand(Connection c, Frame frame) throws Exception {
        if (connection == null) {
            bind(c);
        }
        Header h = frame.header();
        long start = System.nanoTime();
        try {
            Message m = MessageDecoder.decode(h, frame.payload(), frame.fds().count(), limits);
            dispatch(h, m, frame);
        } catch (MessageException | DeviceException e) {
            throw refused(h.command(), e);
        } finally {
            host.metrics().command(Command.fromCode(h.command()))
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Every command, one switch: on a negotiated session the region commands (spec "VFIO_USER_REGION_READ",
     * "..._WRITE", "..._WRITE_MULTI") are served from the lent receive buffer through in-place views, with a
     * reused reply buffer and cached timers, so a BAR or config access allocates nothing; every other command
     * goes to the decoder ({@link #onCommand}). The views apply the decoder's own checks (fds included), so
     * each command gets the same errno on either path.
     */
    @Override
    public void onLentCommand(Connection c, LentFrame m) throws Exception {
        commands++;
        // Rule: with tracing off the command is served as is: one level check, nothing gathered or allocated.
        if (!CommandTrace.enabled()) {
            serve(c, m);
            return;
        }
        int msgId = m.msgId();
        int command = m.command();
        try {
            serve(c, m);
            CommandTrace.served(host.name(), msgId, command);
        } catch (MessageException e) {
            CommandTrace.refused(host.name(), msgId, command, e.errno(), e.getMessage());
            throw e;
        } catch (FramingException | IOException e) {
            CommandTrace.failed(host.name(), msgId, command, e, true);
            throw e;
        } catch (Exception e) {
            CommandTrace.failed(host.name(), msgId, command, e, false);
            throw e;
        }
    }

    private void serve(Connection c, LentFrame m) throws Exception {
        int command = m.command();
        // Rule: a command with the Error flag, or any command before VERSION, gets the decoder's exact errno.
        if (negotiated && !m.isError()) {
            // Rule: a command's timer is fetched when the command is served, so only commands seen get a series.
            Command timed = command == REGION_READ ? Command.REGION_READ : command == REGION_WRITE
                    ? Command.REGION_WRITE : command == REGION_WRITE_MULTI ? Command.REGION_WRITE_MULTI : null;
            if (timed != null) {
                long start = System.nanoTime();
                try {
                    if (command == REGION_READ) {
                        regions.read(c, m, readView.wrap(m.payload(), m.fdCount(), limits));
                    } else if (command == REGION_WRITE) {
                        regions.write(c, m, writeView.wrap(m.payload(), m.fdCount(), limits));
                    } else {
                        regions.writeMulti(c, m, multiView.wrap(m.payload(), m.fdCount()));
                    }
                } catch (MessageException | DeviceException e) {
                    throw refused(command, e);
                } finally {
                    host.metrics().command(timed).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                }
                return;
            }
        }
        try (Frame frame = m.toFrame()) {
            onCommand(c, frame);
        }
    }

    /** Counts a refused command by errno and returns the exception that answers it. */
    private MessageException refused(int command, Exception e) {
        MessageException m = e instanceof DeviceException d ? Errnos.toMessage(d) : (MessageException) e;
        host.metrics().error(m.errno().code());
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: {} refused: {}", host.name(), Command.fromCode(command), m.getMessage());
        }
        return m;
    }

    private void dispatch(Header h, Message m, Frame frame) throws Exception {
        // Rule: VERSION comes first and once (spec "Connection Initiation").
        if (!negotiated && !(m instanceof Version.Request)) {
            throw new MessageException(Errno.EINVAL, "the first command must be VERSION");
        }
        switch (m) {
            case Version.Request r -> handleVersion(h, r);
            case DmaMap.Request r -> {
                dmaMapRequests.map(r, frame.fds());
                reply(h, new DmaMap.Reply());
            }
            case DmaUnmap.Request r -> reply(h, dmaMapRequests.unmap(r));
            case DeviceGetInfo.Request r -> reply(h, DeviceGetInfo.Reply.of(
                    DeviceGetInfo.FLAG_RESET | DeviceGetInfo.FLAG_PCI, host.regionCount(), host.irqCount()));
            case DeviceGetRegionInfo.Request r -> {
                RegionAccess.Info info = regions.info(r);
                if (info.fd() < 0) {
                    reply(h, info.reply());
                } else {
                    connection.reply(h, MessageEncoder.payload(info.reply()), info.fd());
                }
            }
            case DeviceGetRegionIoFds.Request r -> reply(h, regions.ioFds(r));
            case DeviceGetIrqInfo.Request r -> reply(h, irqRequests.info(r));
            case DeviceSetIrqs.Request r -> {
                irqRequests.set(r, frame.fds());
                reply(h, new DeviceSetIrqs.Reply());
            }
            // Region commands never reach the decoder: onLentCommand serves them on a negotiated session, and
            // before VERSION (checked above) or with the Error flag (refused by the decoder) they never decode.
            case RegionRead.Request _, RegionWrite.Request _, RegionWriteMulti.Request _ ->
                    throw new IllegalStateException("a region command reached the decoder path");
            case DeviceReset.Request r -> {
                host.onDevice(VfioDevice::reset); // the targets it drops are closed as the call ends
                reply(h, new DeviceReset.Reply());
            }
            // Migration is not implemented: answer as kernel vfio does for an unknown feature, which QEMU reads
            // as "migration not supported" and blocks migration instead of failing the device.
            case DeviceFeature.Request r -> throw new MessageException(Errno.ENOTTY, "device features unsupported");
            case MigDataRead.Request r -> throw new MessageException(Errno.EOPNOTSUPP, "no migration support");
            case MigDataWrite.Request r -> throw new MessageException(Errno.EOPNOTSUPP, "no migration support");
            // Server-to-client commands are not valid from the client.
            case DmaRead.Request r -> throw new MessageException(Errno.EINVAL, "DMA_READ is a server command");
            case DmaWrite.Request r -> throw new MessageException(Errno.EINVAL, "DMA_WRITE is a server command");
            case Unknown u -> throw new MessageException(Errno.ENOSYS, "unknown command " + u.header().command());
            case Message.Reply r -> throw new MessageException(Errno.EINVAL, "a reply is not a command");
            case ErrorReply r -> throw new MessageException(Errno.EINVAL, "a reply is not a command");
        }
    }

    private void handleVersion(Header h, Version.Request r) throws IOException, FramingException, MessageException {
        if (negotiated) {
            throw new MessageException(Errno.EINVAL, "VERSION was already negotiated");
        }
        // A major we cannot speak is a FramingException: the spec says the server closes the connection.
        VersionNegotiation.Result result = VersionNegotiation.negotiate(r, SERVER_CAPABILITIES);
        limits = result.inbound();
        guestMemory.maxChunk(result.outbound().maxDataXferSize());
        negotiated = true;
        reply(h, result.reply());
        host.attach(this);
    }

    /** Encodes and sends a successful reply to {@code request}. */
    private void reply(Header request, Message.Reply reply) throws IOException {
        if (request.noReply()) {
            return; // Rule (spec "Header"): No_reply commands get no reply, so none is built.
        }
        connection.reply(request, MessageEncoder.payload(reply));
    }

    // ---- DeviceHost.Attachment ----

    @Override
    public io.vfu.device.GuestMemory guestMemory() {
        return guestMemory;
    }

    @Override
    public Connection connection() {
        return connection;
    }

    /** An error reply to a posted DMA_WRITE: the interrupt was not delivered. Counted, and logged once. */
    @Override
    public void onUnsolicitedReply(Connection c, Header reply) {
        // Rule: only an error reply to one of our posted writes counts (a peer cannot invent failures for
        // requests; late replies to timed-out requests carry request ids).
        if (reply.command() != DMA_WRITE || !reply.isError() || !Connection.isPostedId(reply.msgId())) {
            return;
        }
        host.metrics().postedWriteFailed(reply.error());
        if (!postFailureLogged) {
            postFailureLogged = true;
            LOG.atWarn().addKeyValue(io.vfu.server.logging.LogFields.DEVICE, host.name())
                    .addKeyValue(io.vfu.server.logging.LogFields.ERRNO, errnoName(reply.error()))
                    .log("{}: the client refused a posted write ({}); further failures are counted in "
                            + "vfu_posted_writes_failed_total", host.name(), errnoName(reply.error()));
        }
    }

    private static String errnoName(long code) {
        Errno e = Errno.fromCode(code);
        return e != null ? e.name() : "errno " + code;
    }

    /** Whether VERSION has been negotiated (spec "Connection Initiation"). */
    public boolean negotiated() {
        return negotiated;
    }

    /**
     * How many commands the client sent. Exact once the session has ended (read it after {@link #end}); a
     * forced close may miss a command that was still being read.
     */
    public long commands() {
        return commands;
    }

    /** Releases what the session owns: eventfds and DMA windows. Device state is kept. */
    public void end() {
        if (!negotiated) {
            dmaMaps.close();
            return;
        }
        host.detach(this).forEach(EventFdTarget::release);
        dmaMaps.close();
    }
}
