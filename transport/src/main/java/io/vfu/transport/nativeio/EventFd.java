package io.vfu.transport.nativeio;

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

    /**
     * Adopts an fd a peer claims is an eventfd, as an interrupt target that can never block its signaller.
     *
     * <p>Rule: only a real eventfd is accepted (its {@code /proc/self/fd} link reads {@code anon_inode:[eventfd]});
     * a pipe, socket, regular file or device could block or misbehave on the 8-byte write. Rule: it is made
     * non-blocking (O_NONBLOCK on the open file description, which the peer shares; QEMU creates its eventfds
     * non-blocking anyway), so a counter the peer filled to its maximum makes {@link #add} report "full" at
     * once instead of sleeping in write(2). On failure the fd stays with the caller.
     *
     * @throws NotAnEventFdException when {@code fd} is not an eventfd
     */
    public static EventFd adoptInterruptTarget(OwnedFd fd) throws NotAnEventFdException, NativeCallException {
        if (!Fds.isEventFd(fd.fd())) {
            throw new NotAnEventFdException("fd is " + Fds.kind(fd.fd()) + ", not an eventfd");
        }
        Fds.setNonBlocking(fd.fd());
        return new EventFd(fd);
    }

    public OwnedFd fd() {
        return fd;
    }

    /**
     * Adds 1 to the counter (one interrupt).
     *
     * @return true if added; false if the counter is at its maximum and the fd is non-blocking (an interrupt
     *         is already pending there, so this one merges into it)
     */
    public boolean signal() throws NativeCallException {
        return add(1);
    }

    /**
     * Adds {@code value} (1 .. 2^64-2) to the counter with one 8-byte write.
     *
     * @return true if added; false if it would overflow the counter on a non-blocking fd (EAGAIN)
     */
    public boolean add(long value) throws NativeCallException {
        // Rule: an interrupt allocates nothing: each thread writes from its own 8-byte native scratch.
        MemorySegment buf = SCRATCH.get();
        buf.set(JAVA_LONG, 0, value);
        return HotCalls.write(fd.fd(), buf, 8) == 8;
    }

    /**
     * Blocks until the counter is non-zero, then returns it and resets it to 0; works on a blocking and a
     * non-blocking eventfd alike (a server that adopted it as an interrupt target made it non-blocking).
     */
    public long read() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(JAVA_LONG);
            while (Libc.read(fd.fd(), buf, 8) != 8) {
                Libc.pollIn(fd.fd(), -1); // EAGAIN on a non-blocking fd: wait until the counter is non-zero
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
