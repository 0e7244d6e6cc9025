package io.vfu.server;

import io.vfu.protocol.Errno;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.session.Session;
import io.vfu.server.transport.AcceptLoop;
import io.vfu.server.transport.Connection;
import io.vfu.server.transport.PeerCredentials;
import io.vfu.server.transport.PeerPolicy;
import io.vfu.server.transport.SocketAccess;
import io.vfu.server.transport.TransportLimits;
import io.vfu.server.transport.UnixSocketListener;
import io.vfu.server.transport.UnixSocketTransport;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One device's socket: accepts clients one at a time (spec "Socket": a dedicated socket per client/server
 * connection). While a session is active, a second client is answered EBUSY on its first command and closed,
 * so it can never disturb the first. Peers with another UID are refused unless allowed.
 */
public final class DeviceEndpoint implements AutoCloseable {

    private static final Logger LOG = System.getLogger(DeviceEndpoint.class.getName());
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REFUSE_GRACE = Duration.ofSeconds(5);
    /**
     * How long a new client waits for the previous session to finish closing before it is refused: a QEMU that
     * restarts reconnects while the server may still be reading the old connection's end of stream.
     */
    private static final Duration HANDOVER = Duration.ofMillis(500);
    /** Clients that may wait for admission at once (the listen backlog's size). */
    private static final int MAX_WAITING = 16;

    private final DeviceHost host;
    private final Path socket;
    private final SocketAccess access;
    private final PeerPolicy peerPolicy;
    /** The client being served and a future that completes once its session has been cleaned up. */
    private record Active(Connection connection, CompletableFuture<Void> ended) {
    }

    private final AtomicReference<Active> active = new AtomicReference<>();
    private UnixSocketListener listener;
    private AcceptLoop acceptLoop;
    private final java.util.concurrent.ExecutorService admitter;
    /** Clients accepted and not yet admitted (see {@link #MAX_WAITING}). */
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    public DeviceEndpoint(DeviceHost host, Path socket, SocketAccess access, PeerPolicy peerPolicy) {
        this.host = host;
        this.socket = socket;
        this.access = access;
        this.peerPolicy = peerPolicy;
        this.admitter = java.util.concurrent.Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("vfu-admit-" + host.name()).factory());
    }

    /** Binds the socket (with its mode and group) and has {@code loop} accept its clients. */
    public void start(AcceptLoop loop) throws IOException {
        listener = UnixSocketListener.bind(socket, access);
        acceptLoop = loop;
        loop.register(listener, this::accepted);
    }

    public Path socket() {
        return socket;
    }

    public DeviceHost host() {
        return host;
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
        if (waiting.incrementAndGet() > MAX_WAITING) {
            waiting.decrementAndGet();
            host.metrics().sessionRefused();
            t.close();
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
                LOG.log(Level.WARNING, host.name() + ": could not start a session", e);
                transport.close();
            }
        }
    }

    private void admit(UnixSocketTransport t) throws IOException {
        PeerCredentials peer = t.peerCredentials();
        // Rule: only the server's own UID, or UIDs and GIDs the config allows, may drive a device.
        if (!peerPolicy.admits(peer)) {
            LOG.log(Level.WARNING, host.name() + ": refused peer uid " + peer.uid() + " gid " + peer.gid()
                    + " pid " + peer.pid());
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
        Session session = new Session(host);
        Active current;
        synchronized (active) {
            if (closed) {
                t.close(); // Rule: no session starts once close() has begun (it would never be closed).
                return;
            }
            if (active.get() != null) {
                refuseBusy(t);
                return;
            }
            current = new Active(Connection.start(t, session, REQUEST_TIMEOUT, "vfu-session-" + host.name()),
                    new CompletableFuture<>());
            active.set(current);
        }
        host.metrics().sessionOpened();
        LOG.log(Level.INFO, host.name() + ": client pid " + peer.pid() + " connected");
        current.connection().closeFuture().whenComplete((v, e) -> {
            session.end();
            active.compareAndSet(current, null);
            host.metrics().sessionClosed();
            current.ended().complete(null);
            LOG.log(Level.INFO, host.name() + ": client disconnected" + (e != null ? ": " + e.getMessage() : ""));
        });
    }

    /**
     * A second client gets EBUSY for its first command (its VERSION) and is disconnected; one that sends nothing
     * is disconnected after {@link #REFUSE_GRACE}, so idle refused connections cannot pile up.
     */
    private void refuseBusy(UnixSocketTransport t) {
        host.metrics().sessionRefused();
        Connection c = Connection.start(t, (conn, frame) -> {
            conn.replyError(frame.header(), Errno.EBUSY);
            Thread.ofVirtual().start(conn::close);
        }, REQUEST_TIMEOUT, "vfu-refuse-" + host.name());
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(REFUSE_GRACE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.close();
        });
    }

    @Override
    public void close() {
        synchronized (active) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            if (listener != null) {
                // Rule: the loop lets go of the fd before it is closed.
                acceptLoop.unregister(listener);
                listener.close(); // removes the socket file if it is still ours
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, host.name() + ": closing the socket failed", e);
        }
        for (Runnable r : admitter.shutdownNow()) {
            // Rule: clients still waiting for admission are closed with the endpoint, never leaked.
            if (r instanceof Admission a) {
                a.transport.close();
            }
        }
        Active a = active.get();
        if (a != null) {
            a.connection().close();
        }
        host.close();
    }
}
