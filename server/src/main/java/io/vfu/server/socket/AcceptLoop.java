package io.vfu.server.socket;

import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;

import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.Poller;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One thread accepts clients for every listening socket of the server: it polls all listening fds (plus an
 * eventfd that wakes it when the set changes) and accepts without blocking from each ready one. A server with
 * 1,000 devices so runs one acceptor instead of 1,000 threads sleeping in accept(2).
 *
 * <p>Handlers run on the loop thread and must hand slow work (a handover wait, a refusal) to another thread.
 *
 * <p>Fd lifetime rule: {@link #unregister} returns only once the loop can no longer touch the listener's fd
 * (the poll pass that might have seen it has ended), so the caller may then close the listener.
 */
public final class AcceptLoop implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AcceptLoop.class);

    private record Entry(UnixSocketListener listener, Consumer<UnixSocketTransport> handler) {
    }

    private final TransportLimits limits;
    /** Created by the loop thread itself, so start-up does not wait for eventfd/poll linking. */
    private volatile EventFd wake;
    private final Thread thread;
    /** Copy-on-write: the loop reads a snapshot per pass. Guarded by {@code this}. */
    private Entry[] entries = new Entry[0];
    /** Passes begun (snapshot taken) and ended: {@link #unregister} waits for a pass in flight. Guarded by this. */
    private long begun;
    private long passes;
    private volatile boolean closed;

    private AcceptLoop(TransportLimits limits, String name) {
        this.limits = limits;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    /** Starts the loop's thread (named {@code name}) with no listeners yet. */
    public static AcceptLoop start(TransportLimits limits, String name) {
        AcceptLoop loop = new AcceptLoop(limits, name);
        loop.thread.start();
        return loop;
    }

    /** Accepts on {@code listener} from now on, handing each client to {@code handler} on the loop thread. */
    public void register(UnixSocketListener listener, Consumer<UnixSocketTransport> handler) throws IOException {
        listener.nonBlocking();
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("accept loop closed");
            }
            Entry[] next = Arrays.copyOf(entries, entries.length + 1);
            next[entries.length] = new Entry(listener, handler);
            entries = next;
        }
        wakeUp();
    }

    /**
     * Stops accepting on {@code listener} and returns once the loop no longer uses its fd (immediately when
     * called from a handler, whose pass checks the registration before each accept).
     */
    public void unregister(UnixSocketListener listener) {
        long inFlight;
        synchronized (this) {
            entries = Arrays.stream(entries).filter(e -> e.listener() != listener).toArray(Entry[]::new);
            // A pass whose snapshot was taken before this removal may still poll or accept on the fd; later
            // passes never see it.
            inFlight = begun > passes ? begun : -1;
        }
        if (inFlight < 0 || Thread.currentThread() == thread || closed) {
            return;
        }
        wakeUp();
        synchronized (this) {
            // Rule: the fd is let go only when the pass that may use it has ended.
            while (passes < inFlight && thread.isAlive() && !closed) {
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** How many listeners are registered. */
    public synchronized int size() {
        return entries.length;
    }

    private void wakeUp() {
        EventFd w = wake;
        if (w == null) {
            return; // the loop has not started its first pass: it will read the current entries
        }
        try {
            w.signal();
        } catch (IllegalStateException e) {
            // closed concurrently: the loop has stopped, nothing to wake
        } catch (NativeCallException e) {
            LOG.warn("could not wake the accept loop: {}", e.getMessage());
        }
    }

    private void run() {
        Poller poller = new Poller(16);
        try {
            wake = EventFd.create();
        } catch (NativeCallException e) {
            LOG.error("accept loop cannot start; no clients can connect", e);
            closed = true;
            return;
        }
        while (!closed) {
            Entry[] pass;
            synchronized (this) {
                pass = entries;
                begun++;
            }
            try {
                poller.reset(pass.length + 1);
                int wakeIndex = poller.add(wake.fd().fd());
                for (Entry e : pass) {
                    int fd = e.listener().pollFd();
                    if (fd < 0) {
                        // Closed without unregistering: dropped (a later pass no longer sees it).
                        unregister(e.listener());
                    }
                    poller.add(fd);
                }
                poller.await(-1);
                if (poller.ready(wakeIndex)) {
                    wake.read(); // drain: the snapshot is re-read by the next pass
                }
                for (int i = 0; i < pass.length && !closed; i++) {
                    if (poller.ready(i + 1)) {
                        acceptAll(pass[i]);
                    }
                }
            } catch (NativeCallException | RuntimeException e) {
                // Rule: the one accept thread of the server never dies of one bad pass; it logs and goes on.
                LOG.error("accept loop pass failed", e);
                pause();
            } finally {
                synchronized (this) {
                    passes++;
                    notifyAll();
                }
            }
        }
    }

    /** Accepts every waiting client of one listener, unless it was unregistered meanwhile. */
    private void acceptAll(Entry e) {
        while (isRegistered(e)) {
            UnixSocketTransport t;
            try {
                t = e.listener().tryAccept(limits);
            } catch (java.nio.channels.ClosedChannelException ex) {
                // Closed without unregistering first: drop it, or poll would report it (POLLNVAL) forever.
                unregister(e.listener());
                return;
            } catch (IOException ex) {
                // E.g. EMFILE: the connection stays queued and poll reports it again at once; back off briefly
                // instead of spinning (every device waits that long, only while accepting fails).
                LOG.warn("{}: accept failed: {}", e.listener().path(), ex.toString());
                pause();
                return;
            }
            if (t == null) {
                return;
            }
            try {
                e.handler().accept(t);
            } catch (RuntimeException ex) {
                LOG.warn("{}: could not start a session", e.listener().path(), ex);
                t.close();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized boolean isRegistered(Entry e) {
        for (Entry x : entries) {
            if (x == e) {
                return true;
            }
        }
        return false;
    }

    /** Stops the loop (listeners stay open; their owners close them) and waits for its thread. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            notifyAll();
        }
        wakeUp();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        EventFd w = wake;
        if (w != null) {
            w.close();
        }
    }
}
