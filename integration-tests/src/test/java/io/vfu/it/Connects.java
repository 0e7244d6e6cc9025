package io.vfu.it;

import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * connect(2) with a deadline. An AF_UNIX connect blocks while the listener's backlog is full (a server that
 * stopped accepting), and nothing but the server can wake it, so it runs on a thread of its own; a connection
 * that completes after its caller gave up is closed at once.
 */
final class Connects {

    private Connects() {
    }

    /**
     * A connected transport, or {@link SocketTimeoutException} when the connect has not completed by
     * {@code deadlineNanos} ({@link System#nanoTime()} clock).
     */
    static UnixSocketTransport connect(Path socket, long deadlineNanos) throws IOException {
        CompletableFuture<UnixSocketTransport> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("fuzz-connect").start(() -> {
            try {
                UnixSocketTransport t = UnixSocketTransport.connect(socket, TransportLimits.DEFAULT);
                if (!f.complete(t)) {
                    t.close(); // the caller gave up waiting
                }
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (!f.completeExceptionally(e) && !f.isCompletedExceptionally()) {
                return f.getNow(null); // it connected just now after all
            }
            throw new SocketTimeoutException("connect to " + socket + " did not complete in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted connecting to " + socket);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }
}
