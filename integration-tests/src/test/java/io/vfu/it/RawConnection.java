package io.vfu.it;

import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.transport.Frame;
import io.vfu.transport.UnixSocketTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A client connection that sends exactly the bytes and fds it is given ({@link UnixSocketTransport#sendRaw}),
 * for hostile clients. Reading is optional: {@link #startReading} runs a reader thread that drops every frame
 * (closing any fds), queues reply headers for {@link #awaitReply}, and, if asked, answers the server's own
 * DMA_READ / DMA_WRITE requests (with random data, or an error now and then). A client that never calls it
 * never reads its socket, however much the server sends.
 */
final class RawConnection implements AutoCloseable {

    /** How a request was answered. */
    enum Answer {
        OK("success"), BUSY("EBUSY"), OTHER_ERROR("an error other than EBUSY"),
        CLOSED("no answer: the server closed the connection"), NONE("no answer");

        private final String description;

        Answer(String description) {
            this.description = description;
        }

        String describe() {
            return description;
        }
    }

    private final UnixSocketTransport transport;
    private final Watchdog watchdog;
    private final LinkedBlockingQueue<Header> replies = new LinkedBlockingQueue<>(4096);
    private volatile boolean ended;
    private volatile boolean stopReading;
    private Thread reader;

    private RawConnection(UnixSocketTransport transport, Watchdog watchdog) {
        this.transport = transport;
        this.watchdog = watchdog;
    }

    /**
     * Connects; {@code watchdog} closes the connection at {@code deadlineNanos} if the caller has not, which
     * ends any send or wait on it.
     */
    static RawConnection connect(Path socket, Watchdog watchdog, long deadlineNanos) throws IOException {
        return watchdog.guard(new RawConnection(Connects.connect(socket, deadlineNanos), watchdog), deadlineNanos);
    }

    /** Writes {@code bytes} with {@code fds} in one sendmsg (blocks while the server does not read). */
    void send(byte[] bytes, int... fds) throws IOException {
        transport.sendRaw(bytes, fds);
    }

    /** Half-closes: the server sees end of stream after what was sent. */
    void shutdownOutput() throws IOException {
        transport.shutdownOutput();
    }

    /** Starts reading (once). {@code serve}: answer the server's DMA requests, drawing data from {@code random}. */
    synchronized void startReading(boolean serve, long seed) {
        if (reader == null) {
            Random random = new Random(seed);
            reader = Thread.ofPlatform().daemon().name("fuzz-raw-reader").start(() -> readLoop(serve, random));
        }
    }

    /**
     * Stops reading after the frame being read now (if any): from then on the server's messages pile up in the
     * socket, as with a client that hangs.
     */
    void stopReading() {
        stopReading = true;
    }

    private void readLoop(boolean serve, Random random) {
        try {
            while (!stopReading) {
                try (Frame f = transport.receive()) {
                    if (f == null) {
                        ended = true;
                        return;
                    }
                    Header h = f.header();
                    if (h.isReply()) {
                        replies.offer(h); // a full queue drops: nobody is waiting for that many
                    } else if (serve) {
                        answer(h, f.payload(), random);
                    }
                }
            }
        } catch (Exception | Error e) {
            // closed by us or by the server, or the server sent something this client cannot frame: done
            ended = true;
        }
    }

    /** Answers DMA_READ with {@code count} random bytes and DMA_WRITE with its echo; one in 8 gets EFAULT. */
    private void answer(Header h, ByteBuffer payload, Random random) throws IOException {
        if (h.noReply() && h.command() != WireMessages.DMA_READ) {
            return;
        }
        ByteBuffer p = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (random.nextInt(8) == 0 || p.remaining() < 16) {
            transport.send(Header.errorReply(h.msgId(), h.command(), Errno.EFAULT), ByteBuffer.allocate(0));
            return;
        }
        long address = p.getLong(0);
        long count = p.getLong(8);
        int data = h.command() == WireMessages.DMA_READ ? (int) Math.min(count, 1 << 20) : 0;
        byte[] bytes = new byte[data];
        random.nextBytes(bytes);
        ByteBuffer reply = WireMessages.le(16 + data).putLong(address).putLong(count).put(bytes).flip();
        transport.send(Header.reply(h.msgId(), h.command(), 16L + data), reply);
    }

    /**
     * Waits up to {@code timeout} for the reply to {@code msgId} (needs {@link #startReading}); replies to
     * other ids are skipped.
     */
    Answer awaitReply(int msgId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Header h = replies.poll(Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50))), TimeUnit.NANOSECONDS);
            if (h != null && h.msgId() == msgId) {
                return !h.isError() ? Answer.OK : h.error() == Errno.EBUSY.code() ? Answer.BUSY : Answer.OTHER_ERROR;
            }
            if (h == null && ended && replies.isEmpty()) {
                return Answer.CLOSED;
            }
            if (left <= 0) {
                return Answer.NONE;
            }
        }
    }

    /** Sends VERSION as QEMU 11 does and waits for its answer. */
    Answer negotiate(int msgId, Duration timeout, long seed) throws IOException, InterruptedException {
        startReading(true, seed);
        send(WireMessages.message(msgId, WireMessages.VERSION, 0,
                WireMessages.version(0, 0, WireMessages.QEMU_CAPABILITIES, true)));
        return awaitReply(msgId, timeout);
    }

    /** Whether the reader has seen the end of the stream (the server or the watchdog closed it). */
    boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        watchdog.release(this);
        transport.close();
    }
}
