package io.vfu.transport;

import io.vfu.transport.nativeio.OwnedFd;
import java.util.Arrays;

/**
 * The file descriptors that arrived (SCM_RIGHTS) with one message. This object owns them until a handler
 * {@link #take takes} one, which hands ownership to the caller as an {@link OwnedFd}; {@link #close()}
 * closes every fd not taken. Spec "Header": fds travel on the same sendmsg as the message they belong to.
 * Not thread-safe: a frame is handled by one thread at a time.
 */
public final class ReceivedFds implements AutoCloseable {

    private static final int[] EMPTY = new int[0];
    private static final int GONE = -1;
    private static final ReceivedFds NONE = new ReceivedFds(EMPTY);

    private final int[] fds;

    private ReceivedFds(int[] fds) {
        this.fds = fds;
    }

    /** No fds: one shared immutable instance (nothing to take, nothing to close). */
    public static ReceivedFds none() {
        return NONE;
    }

    /** Takes ownership of the raw fds, in the order they arrived. */
    public static ReceivedFds adopt(int... raw) {
        for (int fd : raw) {
            if (fd < 0) {
                throw new IllegalArgumentException("invalid fd " + fd);
            }
        }
        return raw.length == 0 ? none() : new ReceivedFds(raw.clone());
    }

    /** How many fds arrived with the message (taken ones included). */
    public int count() {
        return fds.length;
    }

    /** Whether fd {@code i} is still held here (not taken, not closed). */
    public boolean available(int i) {
        return fds[i] != GONE;
    }

    /**
     * Hands ownership of fd {@code i} to the caller.
     *
     * @throws IndexOutOfBoundsException when the message carried fewer than {@code i + 1} fds
     * @throws IllegalStateException when fd {@code i} was already taken or this set was closed
     */
    public OwnedFd take(int i) {
        int fd = fds[i];
        if (fd == GONE) {
            throw new IllegalStateException("fd " + i + " already taken or closed");
        }
        fds[i] = GONE;
        return OwnedFd.adopt(fd);
    }

    /** The raw fd {@code i} without taking it (still closed by {@link #close()}). */
    public int peek(int i) {
        int fd = fds[i];
        if (fd == GONE) {
            throw new IllegalStateException("fd " + i + " already taken or closed");
        }
        return fd;
    }

    /** Closes every fd that was not taken. Idempotent. */
    @Override
    public void close() {
        for (int i = 0; i < fds.length; i++) {
            int fd = fds[i];
            if (fd != GONE) {
                fds[i] = GONE;
                OwnedFd.closeRaw(fd);
            }
        }
    }

    @Override
    public String toString() {
        return "ReceivedFds" + Arrays.toString(fds);
    }
}
