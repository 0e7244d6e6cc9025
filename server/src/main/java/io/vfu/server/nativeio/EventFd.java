package io.vfu.server.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * A Linux eventfd (eventfd(2)): a 64-bit counter that {@link #signal()} adds to and {@link #read()} drains.
 * vfio-user passes these for interrupts (DEVICE_SET_IRQS) and ioeventfds. Wraps an {@link OwnedFd}, so
 * one received over the socket can be used as well as one created here.
 */
public final class EventFd implements AutoCloseable {

    /** Per-thread 8-byte buffer for the counter value (signalled from reader and DMA threads alike). */
    private static final ThreadLocal<MemorySegment> SCRATCH =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(JAVA_LONG));

    private final OwnedFd fd;

    private EventFd(OwnedFd fd) {
        this.fd = fd;
    }

    /** A new blocking eventfd with counter 0 and close-on-exec. */
    public static EventFd create() throws NativeCallException {
        return new EventFd(OwnedFd.adopt(Libc.eventfd(0, Libc.EFD_CLOEXEC)));
    }

    /** Wraps an eventfd obtained elsewhere (e.g. taken from a received message); takes ownership. */
    public static EventFd wrap(OwnedFd fd) {
        return new EventFd(fd);
    }

    public OwnedFd fd() {
        return fd;
    }

    /** Adds 1 to the counter (one interrupt). */
    public void signal() throws NativeCallException {
        add(1);
    }

    /** Adds {@code value} (1 .. 2^64-2) to the counter with one 8-byte write. */
    public void add(long value) throws NativeCallException {
        // Rule: an interrupt allocates nothing: each thread writes from its own 8-byte native scratch.
        MemorySegment buf = SCRATCH.get();
        buf.set(JAVA_LONG, 0, value);
        long n = HotCalls.write(fd.fd(), buf, 8);
        if (n != 8) {
            throw new NativeCallException("write(eventfd)", Libc.EAGAIN);
        }
    }

    /** Blocks until the counter is non-zero, then returns it and resets it to 0. */
    public long read() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(JAVA_LONG);
            long n = Libc.read(fd.fd(), buf, 8);
            if (n != 8) {
                throw new NativeCallException("read(eventfd)", Libc.EAGAIN);
            }
            return buf.get(JAVA_LONG, 0);
        }
    }

    /** Waits up to {@code timeout} for a signal; returns the drained counter, or empty on timeout. */
    public OptionalLong await(Duration timeout) throws NativeCallException {
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
        if (!Libc.pollIn(fd.fd(), millis)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(read());
    }

    @Override
    public void close() {
        fd.close();
    }
}
