package io.vfu.it;

import io.vfu.transport.nativeio.OwnedFd;
import java.util.ArrayDeque;

/**
 * The other ends of the pipes and socketpairs a fuzzer hands to the server, kept open until {@link #close()}.
 * While the test holds the read end, a server that writes interrupts into a pipe it was given really blocks
 * once the pipe is full (closing the read end would turn that into EPIPE and hide it). At most {@link #LIMIT}
 * ends are held; older ones are closed first.
 */
final class PeerEnds implements AutoCloseable {

    static final int LIMIT = 512;

    private final ArrayDeque<OwnedFd> held = new ArrayDeque<>();
    private boolean closed;

    /** Keeps {@code end} open until {@link #close()} (or until {@link #LIMIT} newer ends push it out). */
    synchronized void hold(OwnedFd end) {
        if (closed) {
            end.close();
            return;
        }
        held.addLast(end);
        while (held.size() > LIMIT) {
            held.removeFirst().close();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        while (!held.isEmpty()) {
            held.removeFirst().close();
        }
    }
}
