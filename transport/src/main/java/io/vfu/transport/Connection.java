package io.vfu.transport;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The message engine both ends use: one reader thread per connection reads frames; replies complete the
 * pending request with the same msg_id; commands go to the {@link CommandHandler} in arrival order.
 *
 * <p>Requests never block the reader: {@link #request} sends and returns a future, so a server handling a
 * client command can issue DMA_READ to the client and go on reading and answering the next commands while
 * that reply is outstanding (spec "Socket": no side may stall command or reply processing waiting on the
 * other; QEMU stalls for x-msg-timeout otherwise).
 *
 * <p>msg_id: each side numbers its own requests (spec "Header": ids belong to the sender). Ids are 16-bit
 * and wrap; an id still in flight is skipped, so two outstanding requests never share one.
 *
 * <p>Futures complete on the reader thread. Dependent stages added without an executor run there too and
 * must not block; use the {@code *Async} variants for slow work. A completed reply frame belongs to whoever
 * takes it from the future and must be closed (its fds).
 *
 * <p>Close (by {@link #close()}, end of stream, a framing error or an I/O error): the transport is closed,
 * every pending future fails with {@link ConnectionClosedException}, and every fd received is closed.
 */
public final class Connection implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Connection.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** msg_id bit 15: set for posted commands, clear for requests (see {@link #isPostedId}). */
    private static final int POSTED_IDS = 0x8000;
    private static final ScheduledThreadPoolExecutor TIMERS = timers();

    private record Pending(CompletableFuture<Frame> future, int command) {
    }

    private final Transport transport;
    private final CommandHandler handler;
    private final Duration defaultTimeout;
    private final ConcurrentHashMap<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicInteger nextPostedId = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private final Thread reader;
    private volatile Throwable closeCause;

    private static ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("vfu-request-timeouts").factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    private Connection(Transport transport, CommandHandler handler, Duration defaultTimeout, String name) {
        this.transport = Objects.requireNonNull(transport);
        this.handler = Objects.requireNonNull(handler);
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout);
        this.reader = Thread.ofPlatform().daemon().name(name + "-" + THREADS.incrementAndGet())
                .unstarted(this::readLoop);
    }

    /**
     * Starts the reader thread of a new connection over {@code transport} (which it now owns).
     *
     * @param defaultTimeout how long {@link #request(Command, ByteBuffer, int...)} waits for a reply
     * @param name           the reader thread's name prefix
     */
    public static Connection start(Transport transport, CommandHandler handler, Duration defaultTimeout,
            String name) {
        Connection c = new Connection(transport, handler, defaultTimeout, name);
        c.reader.start();
        return c;
    }

    public Transport transport() {
        return transport;
    }

    /** Completes when the connection has closed: normally for a close or clean end of stream, else with the cause. */
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /** Whether the calling thread is this connection's reader (where waiting for a reply would deadlock). */
    public boolean onReaderThread() {
        return Thread.currentThread() == reader;
    }

    /** Requests sent and not yet answered, failed or timed out. */
    public int pendingCount() {
        return pending.size();
    }

    /** Sends a command expecting a reply within the default timeout. */
    public CompletableFuture<Frame> request(Command command, ByteBuffer payload, int... fds) {
        return request(command.code(), payload, defaultTimeout, fds);
    }

    /**
     * Sends command {@code command} with {@code payload} and {@code fds} (the caller keeps ownership of the
     * fds) and returns a future for its reply. The future fails with {@link ErrorReplyException} for an error
     * reply, {@link RequestTimeoutException} after {@code timeout}, {@link ConnectionClosedException} if the
     * connection closes first, or the {@code IOException} of a failed send. Never blocks on the peer (only on
     * the socket's send buffer).
     */
    public CompletableFuture<Frame> request(int command, ByteBuffer payload, Duration timeout, int... fds) {
        CompletableFuture<Frame> future = new CompletableFuture<>();
        if (closed.get()) {
            future.completeExceptionally(closedException());
            return future;
        }
        Pending p = new Pending(future, command);
        int id = register(p);
        if (id < 0) {
            future.completeExceptionally(new MessageException(Errno.EAGAIN, "all 32768 request msg_ids are in flight"));
            return future;
        }
        future.whenComplete((r, e) -> pending.remove(id, p));
        // A close that raced with register() may have missed this entry: fail it here instead.
        if (closed.get() && pending.remove(id, p)) {
            future.completeExceptionally(closedException());
            return future;
        }
        try {
            transport.send(new Header(id, command, Header.SIZE + (long) payload.remaining(), Header.TYPE_COMMAND, 0),
                    payload, fds);
        } catch (IOException | RuntimeException e) {
            future.completeExceptionally(closed.get() ? closedException() : e);
            return future;
        }
        long nanos = timeout.toNanos();
        if (nanos > 0 && !future.isDone()) {
            ScheduledFuture<?> timer = TIMERS.schedule(() -> future.completeExceptionally(
                    new RequestTimeoutException("no reply to command " + command + " msg_id " + id + " within "
                            + timeout)), nanos, TimeUnit.NANOSECONDS);
            // Rule: an answered request drops its timer at once, so timers never pile up at high rates.
            future.whenComplete((r, e) -> timer.cancel(false));
        }
        return future;
    }

    /**
     * Whether {@code msgId} is one this side gives to posted (No_reply) commands: the upper half of the 16-bit
     * space. Requests that expect a reply use the lower half, so a posted command can never share an id with a
     * request in flight, and an error reply to a posted command is recognisable as such.
     */
    public static boolean isPostedId(int msgId) {
        return (msgId & POSTED_IDS) != 0;
    }

    /** Picks the next request msg_id (lower half) not in flight and registers {@code p}; -1 when all are taken. */
    private int register(Pending p) {
        for (int tries = 0; tries < POSTED_IDS; tries++) {
            int id = nextId.getAndIncrement() & (POSTED_IDS - 1);
            if (pending.putIfAbsent(id, p) == null) {
                return id;
            }
        }
        return -1;
    }

    /** Sends a command with No_reply set (a posted write): no reply is expected, so nothing is tracked. */
    public void post(int command, ByteBuffer payload, int... fds) throws IOException {
        int id = POSTED_IDS | (nextPostedId.getAndIncrement() & (POSTED_IDS - 1));
        transport.send(new Header(id, command, Header.SIZE + (long) payload.remaining(),
                Header.TYPE_COMMAND | Header.FLAG_NO_REPLY, 0), payload, fds);
    }

    /**
     * Sends a command with No_reply set and no fds, building no objects (the hot path of posted interrupt
     * writes). The peer answers only if the command fails, with an error reply that reaches
     * {@link CommandHandler#onUnsolicitedReply}.
     */
    public void post(int command, ByteBuffer payload) throws IOException {
        int id = POSTED_IDS | (nextPostedId.getAndIncrement() & (POSTED_IDS - 1));
        transport.send(id, command, Header.TYPE_COMMAND | Header.FLAG_NO_REPLY, 0, payload);
    }

    /** Sends a command with No_reply set. */
    public void post(Command command, ByteBuffer payload, int... fds) throws IOException {
        post(command.code(), payload, fds);
    }

    /**
     * Answers {@code request} with a success reply carrying {@code payload} and {@code fds} (the caller keeps
     * ownership of the fds). Does nothing when the request had No_reply set (spec "Header").
     */
    public void reply(Header request, ByteBuffer payload, int... fds) throws IOException {
        if (request.noReply()) {
            return;
        }
        transport.send(Header.reply(request.msgId(), request.command(), Header.SIZE + (long) payload.remaining()),
                payload, fds);
    }

    /**
     * Answers a lent request with a success reply carrying {@code payload} (from its position to its limit,
     * which are left as they were); builds no objects. Does nothing when the request had No_reply set.
     */
    public void reply(LentFrame request, ByteBuffer payload) throws IOException {
        if (request.noReply()) {
            return;
        }
        transport.send(request.msgId(), request.command(), Header.TYPE_REPLY, 0, payload);
    }

    /** Answers {@code request} with an empty success reply. */
    public void reply(Header request) throws IOException {
        reply(request, EMPTY);
    }

    /** Answers {@code request} with an error reply (the header alone, spec "Header"); nothing for No_reply. */
    public void replyError(Header request, Errno errno) throws IOException {
        if (request.noReply()) {
            return;
        }
        transport.send(Header.errorReply(request.msgId(), request.command(), errno), EMPTY);
    }

    private void readLoop() {
        Throwable cause = null;
        LentFrame lent = new LentFrame();
        try {
            while (true) {
                try {
                    if (!transport.receive(lent)) {
                        break;
                    }
                } catch (TooManyFdsException e) {
                    refuse(e);
                    continue;
                }
                try {
                    if (lent.isReply()) {
                        complete(lent.toFrame());
                    } else {
                        dispatch(lent);
                    }
                } finally {
                    // Rule: whatever the handler did not take (an owned frame's fds) is closed before the next read.
                    lent.release();
                }
            }
        } catch (IOException | FramingException | RuntimeException | Error e) {
            cause = closed.get() ? null : e;
        } finally {
            // Rule: a send that timed out ended the stream (the reader saw its end): that is why it closed.
            shutdown(cause != null ? cause : transport.sendFailure());
        }
    }

    /**
     * A command, one path for every handler: {@link CommandHandler#onLentCommand} (which, unless a handler
     * serves lent frames itself, hands an owned frame to {@link CommandHandler#onCommand}). A
     * {@link MessageException} is answered with its errno, anything else but a broken stream with EIO.
     */
    private void dispatch(LentFrame lent) throws FramingException, IOException {
        try {
            handler.onLentCommand(this, lent);
        } catch (MessageException e) {
            replyError(lent, e.errno());
        } catch (FramingException | IOException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("command {} msg_id {} failed", lent.command(), lent.msgId(), e);
            replyError(lent, Errno.EIO);
        }
    }

    private void replyError(LentFrame request, Errno errno) throws IOException {
        if (request.noReply()) {
            return;
        }
        transport.send(Header.errorReply(request.msgId(), request.command(), errno), EMPTY);
    }

    private void complete(Frame frame) {
        Header h = frame.header();
        Pending p = pending.remove(h.msgId());
        if (p == null) {
            // An error reply to a posted command, a late reply to a timed-out request, or a peer bug: the handler
            // hears of it; the frame and its fds are dropped.
            LOG.debug("reply to msg_id {} answers no request in flight", h.msgId());
            frame.close();
            handler.onUnsolicitedReply(this, h);
            return;
        }
        if (h.command() != p.command()) {
            frame.close();
            p.future().completeExceptionally(new MessageException(Errno.EINVAL, "reply to msg_id " + h.msgId()
                    + " names command " + h.command() + ", the request was " + p.command()));
        } else if (h.isError()) {
            frame.close();
            p.future().completeExceptionally(new ErrorReplyException(h));
        } else if (!p.future().complete(frame)) {
            frame.close();
        }
    }

    private void refuse(TooManyFdsException e) throws IOException {
        Header h = e.header();
        LOG.debug(e.getMessage());
        if (h.isReply()) {
            Pending p = pending.remove(h.msgId());
            if (p != null) {
                p.future().completeExceptionally(e);
            }
        } else {
            replyError(h, e.errno());
        }
    }

    private ConnectionClosedException closedException() {
        return new ConnectionClosedException("connection closed", closeCause);
    }

    private void shutdown(Throwable cause) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeCause = cause;
        transport.close();
        ConnectionClosedException ex = closedException();
        for (Integer id : pending.keySet()) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future().completeExceptionally(ex);
            }
        }
        if (cause == null) {
            closeFuture.complete(null);
        } else {
            closeFuture.completeExceptionally(cause);
        }
    }

    /** Closes the connection and waits (briefly) for the reader thread to finish. */
    @Override
    public void close() {
        shutdown(null);
        if (Thread.currentThread() != reader) {
            try {
                reader.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
