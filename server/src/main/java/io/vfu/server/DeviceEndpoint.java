package io.vfu.server;

import io.vfu.protocol.Errno;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.dma.FileMappings;
import io.vfu.server.dma.MappingBudget;
import io.vfu.server.logging.ClientEvents;
import io.vfu.server.logging.LogFields;
import io.vfu.server.session.Session;
import io.vfu.server.socket.AcceptLoop;
import io.vfu.transport.Connection;
import io.vfu.transport.PeerCredentials;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import io.vfu.transport.TransportLimits;
import io.vfu.server.socket.UnixSocketListener;
import io.vfu.transport.UnixSocketTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's socket: accepts clients one at a time (spec "Socket": a dedicated socket per client/server
 * connection). While a session is active, a second client is answered EBUSY on its first command and closed,
 * so it can never disturb the first. Peers with another UID are refused unless allowed.
 */
public final class DeviceEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceEndpoint.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Refused connections being answered EBUSY at once, over every device of the process: each holds a reader
     * thread for up to the handshake timeout, so a connect flood cannot pile up threads; past this, a refused
     * connection is closed without an answer.
     */
    private static final int MAX_REFUSING = 64;
    private static final java.util.concurrent.atomic.AtomicInteger REFUSING = new java.util.concurrent.atomic.AtomicInteger();
    /** One timer thread for every device: handshake deadlines and refusal grace periods. */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor DEADLINES = deadlines();
    /**
     * How long a new client waits for the previous session to finish closing before it is refused: a QEMU that
     * restarts reconnects while the server may still be reading the old connection's end of stream.
     */
    private static final Duration HANDOVER = Duration.ofMillis(500);
    /**
     * How long a new connection that has sent nothing is watched for closing before it is treated as a client: a
     * liveness check connects and closes at once, a client sends VERSION at once.
     */
    private static final Duration PROBE_GRACE = Duration.ofMillis(100);
    private static final Duration PROBE_LOOK = Duration.ofMillis(2);
    /** Clients that may wait for admission at once (the listen backlog's size). */
    private static final int MAX_WAITING = 16;

    private final DeviceHost host;
    private final Path socket;
    private final SocketAccess access;
    private final PeerPolicy peerPolicy;
    private final ServerLimits limits;
    private final MappingBudget mappings;
    /**
     * The client being served, a future that completes once its session has been cleaned up, and why the server
     * closed it, if the server did (its close future cannot tell that from the client's end of stream).
     */
    private record Active(Connection connection, CompletableFuture<Void> ended, AtomicReference<String> closedBy) {
    }

    private final AtomicReference<Active> active = new AtomicReference<>();
    private volatile UnixSocketListener listener;
    private AcceptLoop acceptLoop;
    private final java.util.concurrent.ExecutorService admitter;
    /** Clients accepted and not yet admitted (see {@link #MAX_WAITING}). */
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    /** The device left the configuration: no new client, closed once the current one has gone. */
    private volatile boolean retiring;
    private boolean listenerClosed;

    /**
     * @param access     the socket file's mode and group
     * @param peerPolicy which peers (by SO_PEERCRED uid/gid) may drive the device
     * @param limits     bounds on waiting for clients and on what one session may map
     * @param mappings   the process's budget of mappings for direct DMA, shared with every other device
     */
    public DeviceEndpoint(DeviceHost host, Path socket, SocketAccess access, PeerPolicy peerPolicy,
            ServerLimits limits, MappingBudget mappings) {
        this.host = host;
        this.socket = socket;
        this.access = access;
        this.peerPolicy = peerPolicy;
        this.limits = limits;
        this.mappings = mappings;
        this.admitter = java.util.concurrent.Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("vfu-admit-" + host.name()).factory());
    }

    /** Binds the socket (with its mode and group) and has {@code loop} accept its clients. */
    public void start(AcceptLoop loop) throws IOException {
        try {
            listener = UnixSocketListener.bind(socket, access);
        } catch (IOException e) {
            // Rule: a start-up failure names the device it concerns (the listener names the path and errno).
            throw new IOException("device " + host.name() + ": " + e.getMessage(), e);
        }
        acceptLoop = loop;
        loop.register(listener, this::accepted);
    }

    public Path socket() {
        return socket;
    }

    public DeviceHost host() {
        return host;
    }

    /** Whether the device's socket takes clients now (bound, open, and its file still in place). */
    public boolean listening() {
        UnixSocketListener l = listener;
        return !closed && l != null && l.listening();
    }

    /** Whether a client session is active now. */
    public boolean busy() {
        return active.get() != null;
    }

    /**
     * A client connected (on the accept loop's thread). Admission may wait up to {@link #HANDOVER} for the
     * previous session and the loop serves every device, so it runs on this device's own admitter: one virtual
     * thread, clients in arrival order (a reconnecting client is judged after the one before it). At most
     * {@link #MAX_WAITING} clients wait for admission, as a listen backlog would hold them; more are closed at
     * once, so a connect loop cannot pile up fds.
     */
    private void accepted(UnixSocketTransport t) {
        try {
            // Rule: no send to a client may block for longer than the send bound (a client that stops reading
            // ends its own session, never holds up the device or another client).
            t.boundSends(limits.send());
        } catch (IOException e) {
            LOG.warn("{}: cannot bound sends on a new connection: {}", host.name(), e.getMessage());
            t.close();
            return;
        }
        if (limits.polling().enabled()) {
            // Rule: polling, when on, is per connection and adapts to its client (see ReceivePolling).
            t.pollBeforeReceiving(limits.polling(), host.metrics().receivePolls());
        }
        if (waiting.incrementAndGet() > MAX_WAITING) {
            waiting.decrementAndGet();
            // Rule: a client past the admission queue hears EBUSY, as one refused for a busy device.
            refuseBusy(t, credentials(t), LogFields.ADMISSION_QUEUE_FULL,
                    MAX_WAITING + " clients already waiting; answered EBUSY");
            return;
        }
        try {
            admitter.execute(new Admission(t));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            waiting.decrementAndGet();
            t.close(); // the endpoint is closing
        }
    }

    /** One accepted client waiting for admission; closed if the endpoint closes first. */
    private final class Admission implements Runnable {
        final UnixSocketTransport transport;

        Admission(UnixSocketTransport transport) {
            this.transport = transport;
        }

        @Override
        public void run() {
            waiting.decrementAndGet();
            try {
                admit(transport);
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: could not start a session", host.name(), e);
                transport.close();
            }
        }
    }

    private void admit(UnixSocketTransport t) throws IOException {
        if (isLivenessProbe(t)) {
            // Rule: a connection that ends before sending a byte is another server's check whether this socket
            // is live (UnixSocketListener), not a client: no session, no count, no log line above DEBUG.
            LOG.debug("{}: a connection closed before sending anything (a liveness check)", host.name());
            t.close();
            return;
        }
        PeerCredentials peer = t.peerCredentials();
        // Rule: only the server's own UID, or UIDs and GIDs the config allows, may drive a device.
        if (!peerPolicy.admits(peer)) {
            ClientEvents.refused(host.name(), peer, LogFields.UID_NOT_ALLOWED,
                    "neither the server's uid nor an allowed uid or gid; closed unanswered");
            host.metrics().sessionRefused();
            t.close();
            return;
        }
        Active previous = active.get();
        if (previous != null) {
            try {
                previous.ended().get(HANDOVER.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // still busy: refused below
            } catch (InterruptedException e) {
                // The endpoint is closing: this client is not admitted.
                Thread.currentThread().interrupt();
                t.close();
                return;
            }
        }
        Session session = new Session(host, new FileMappings(mappings, limits.mappedFilesPerSession()));
        Active current;
        synchronized (active) {
            if (closed || retiring) {
                t.close(); // Rule: no session starts once close() or retire() has begun (it would never be closed).
                return;
            }
            if (active.get() != null) {
                refuseBusy(t, peer, LogFields.BUSY, "another client is attached; answered EBUSY");
                return;
            }
            current = new Active(Connection.start(t, session, REQUEST_TIMEOUT, "vfu-session-" + host.name()),
                    new CompletableFuture<>(), new AtomicReference<>());
            active.set(current);
        }
        host.metrics().sessionOpened();
        long since = System.nanoTime();
        ClientEvents.connected(host.name(), peer);
        Connection connection = current.connection();
        // Rule: a client that has not completed VERSION within the handshake bound is closed, so a connection
        // that sends nothing (or one byte) cannot hold the device.
        java.util.concurrent.ScheduledFuture<?> handshake = DEADLINES.schedule(() -> {
            if (!session.negotiated() && connection.isOpen()) {
                host.metrics().handshakeTimeout();
                current.closedBy().compareAndSet(null, LogFields.HANDSHAKE_TIMEOUT);
                ClientEvents.handshakeTimeout(host.name(), peer, limits.handshake());
                connection.close();
            }
        }, limits.handshake().toNanos(), TimeUnit.NANOSECONDS);
        connection.closeFuture().whenComplete((v, e) -> {
            handshake.cancel(false);
            session.end();
            active.compareAndSet(current, null);
            host.metrics().sessionClosed();
            current.ended().complete(null);
            Throwable cause = e instanceof java.util.concurrent.CompletionException c ? c.getCause() : e;
            if (cause instanceof io.vfu.transport.SendTimeoutException) {
                host.metrics().sendTimeout();
            }
            ClientEvents.disconnected(host.name(), peer, System.nanoTime() - since, session.commands(),
                    disconnectReason(current.closedBy().get(), cause), cause);
        });
    }

    /** How a session ended, for its disconnect line: the error that ended it, else who closed it. */
    private static String disconnectReason(String closedBy, Throwable cause) {
        return switch (cause) {
            case null -> closedBy != null ? closedBy : LogFields.EOF;
            case io.vfu.transport.SendTimeoutException _ -> LogFields.SEND_TIMEOUT;
            case io.vfu.protocol.FramingException _ -> LogFields.PROTOCOL_ERROR;
            case IOException _ -> LogFields.IO_ERROR;
            default -> LogFields.INTERNAL_ERROR;
        };
    }

    /** The peer's credentials, or {@code null} when they cannot be read (they only name it in a log line). */
    private static PeerCredentials credentials(UnixSocketTransport t) {
        try {
            return t.peerCredentials();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Whether {@code t} closed before sending anything, looked at for up to {@link #PROBE_GRACE}: a client sends
     * VERSION at once, so the wait ends at its first byte; a silent client is admitted after the grace, as before.
     * Sleeps between looks, so a virtual admitter never holds a carrier thread.
     */
    private static boolean isLivenessProbe(UnixSocketTransport t) throws IOException {
        long deadline = System.nanoTime() + PROBE_GRACE.toNanos();
        while (true) {
            switch (t.inbound()) {
                case END_OF_STREAM -> {
                    return true;
                }
                case DATA -> {
                    return false;
                }
                case NOTHING_YET -> {
                    if (System.nanoTime() - deadline >= 0) {
                        return false;
                    }
                    try {
                        Thread.sleep(PROBE_LOOK);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false; // the endpoint is closing; admit() closes the client
                    }
                }
            }
        }
    }

    /**
     * A second client gets EBUSY for its first command (its VERSION) and is disconnected; one that sends nothing
     * is disconnected after the handshake bound, so idle refused connections cannot pile up. At most
     * {@link #MAX_REFUSING} refusals are answered at once in the process; past that a refused connection is
     * closed at once. Either way the refusal is logged with {@code reason} and {@code detail}.
     *
     * @param peer the client's credentials, or {@code null} when they could not be read
     */
    private void refuseBusy(UnixSocketTransport t, PeerCredentials peer, String reason, String detail) {
        host.metrics().sessionRefused();
        if (REFUSING.incrementAndGet() > MAX_REFUSING) {
            REFUSING.decrementAndGet();
            ClientEvents.refused(host.name(), peer, LogFields.REFUSALS_FULL,
                    MAX_REFUSING + " refusals already being answered; closed unanswered");
            t.close();
            return;
        }
        ClientEvents.refused(host.name(), peer, reason, detail);
        Connection c = Connection.start(t, (conn, frame) -> {
            conn.replyError(frame.header(), Errno.EBUSY);
            Thread.ofVirtual().start(conn::close);
        }, REQUEST_TIMEOUT, "vfu-refuse-" + host.name());
        java.util.concurrent.ScheduledFuture<?> grace =
                DEADLINES.schedule(c::close, limits.handshake().toNanos(), TimeUnit.NANOSECONDS);
        c.closeFuture().whenComplete((v, e) -> {
            grace.cancel(false);
            REFUSING.decrementAndGet();
        });
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor deadlines() {
        java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("vfu-deadlines").factory());
        t.setRemoveOnCancelPolicy(true); // Rule: a met deadline leaves nothing queued behind it
        return t;
    }

    /**
     * The device left the configuration (SIGHUP): its socket goes now, so no new client can come; the device is
     * closed once the client it serves, if any, has gone (it is never cut off).
     *
     * @return completes when the device is closed
     */
    public CompletableFuture<Void> retire() {
        retiring = true;
        stopListening();
        Active a = active.get();
        CompletableFuture<Void> ended = a == null ? CompletableFuture.completedFuture(null) : a.ended();
        return ended.thenRunAsync(this::close, runnable -> Thread.ofVirtual().name("vfu-retire-" + host.name())
                .start(runnable));
    }

    /** Whether {@link #retire()} was called. */
    public boolean retiring() {
        return retiring;
    }

    /** Unregisters and closes the listener (removing the socket file if it is still ours), once. */
    private void stopListening() {
        synchronized (active) {
            if (listenerClosed || listener == null) {
                listenerClosed = true;
                return;
            }
            listenerClosed = true;
        }
        try {
            // Rule: the loop lets go of the fd before it is closed.
            acceptLoop.unregister(listener);
            listener.close(); // removes the socket file if it is still ours
        } catch (IOException e) {
            LOG.warn("{}: closing the socket failed", host.name(), e);
        }
    }

    @Override
    public void close() {
        synchronized (active) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopListening();
        for (Runnable r : admitter.shutdownNow()) {
            // Rule: clients still waiting for admission are closed with the endpoint, never leaked.
            if (r instanceof Admission a) {
                a.transport.close();
            }
        }
        Active a = active.get();
        if (a != null) {
            a.closedBy().compareAndSet(null, LogFields.SERVER_CLOSING);
            a.connection().close();
            try {
                // Rule: the device goes only after its session has ended (no device call in flight).
                a.ended().get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("{}: the session did not end within 5 s of close", host.name());
            }
        }
        host.close();
    }
}
