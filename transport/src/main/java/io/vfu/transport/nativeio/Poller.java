package io.vfu.transport.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable poll(2) set for readability: one native array of {@code struct pollfd}, refilled by its one
 * owning thread before each wait. An fd counts as ready on POLLIN, and also on POLLERR/POLLHUP/POLLNVAL so the
 * caller's next call on it reports the error instead of the poll spinning.
 */
public final class Poller {

    private static final int ENTRY = 8; // struct pollfd { int fd; short events; short revents; }
    // POLLIN, POLLERR, POLLHUP, POLLNVAL
    private static final short READY = (short) (Libc.POLLIN | 0x8 | 0x10 | 0x20);

    private MemorySegment fds;
    private int count;

    public Poller(int capacity) {
        fds = Arena.ofAuto().allocate((long) Math.max(1, capacity) * ENTRY, 4);
    }

    /** Empties the set, keeping room for at least {@code capacity} fds. */
    public void reset(int capacity) {
        if ((long) capacity * ENTRY > fds.byteSize()) {
            fds = Arena.ofAuto().allocate((long) capacity * ENTRY * 2, 4);
        }
        count = 0;
    }

    /** Adds {@code fd}; returns its index for {@link #ready}. */
    public int add(int fd) {
        if ((long) (count + 1) * ENTRY > fds.byteSize()) {
            throw new IllegalStateException("poll set full: call reset with the capacity first");
        }
        long at = (long) count * ENTRY;
        fds.set(JAVA_INT, at, fd);
        fds.set(JAVA_SHORT, at + 4, Libc.POLLIN);
        fds.set(JAVA_SHORT, at + 6, (short) 0);
        return count++;
    }

    /**
     * Waits until some fd is ready or {@code timeoutMillis} passes (-1: no limit).
     *
     * @return how many fds are ready
     */
    public int await(int timeoutMillis) throws NativeCallException {
        return Libc.poll(fds, count, timeoutMillis);
    }

    /** Whether the fd at {@code index} was ready in the last {@link #await}. */
    public boolean ready(int index) {
        java.util.Objects.checkIndex(index, count);
        return (fds.get(JAVA_SHORT, (long) index * ENTRY + 6) & READY) != 0;
    }
}
