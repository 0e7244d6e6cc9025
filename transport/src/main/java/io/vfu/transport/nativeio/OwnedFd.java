package io.vfu.transport.nativeio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An int file descriptor with explicit ownership: whoever holds the {@code OwnedFd} must close it, and
 * nobody else may. {@link #close()} is idempotent and thread-safe (the fd is released exactly once).
 * {@link #release()} hands the raw fd to another owner without closing it.
 */
public final class OwnedFd implements AutoCloseable {

    private static final int CLOSED = -1;

    private final AtomicInteger fd;

    private OwnedFd(int fd) {
        this.fd = new AtomicInteger(fd);
    }

    /** Takes ownership of a raw fd: from now on this object closes it. */
    public static OwnedFd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("invalid fd " + fd);
        }
        return new OwnedFd(fd);
    }

    /** The raw fd, for passing to a call; ownership stays here. */
    public int fd() {
        int v = fd.get();
        if (v == CLOSED) {
            throw new IllegalStateException("fd already closed or released");
        }
        return v;
    }

    public boolean isOpen() {
        return fd.get() != CLOSED;
    }

    /** A new fd for the same open file (close-on-exec), owned by the returned object. */
    public OwnedFd dup() throws NativeCallException {
        return new OwnedFd(Libc.fcntl(fd(), Libc.F_DUPFD_CLOEXEC, 0));
    }

    /** A close-on-exec duplicate of a raw fd the caller does not give up; the duplicate is owned by the result. */
    public static OwnedFd dupOf(int fd) throws NativeCallException {
        return new OwnedFd(Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0));
    }

    /** Gives up ownership without closing: the caller now owns the returned raw fd. */
    public int release() {
        int v = fd.getAndSet(CLOSED);
        if (v == CLOSED) {
            throw new IllegalStateException("fd already closed or released");
        }
        return v;
    }

    /** Closes the fd once; later calls do nothing. */
    @Override
    public void close() {
        int v = fd.getAndSet(CLOSED);
        if (v != CLOSED) {
            try {
                Libc.close(v);
            } catch (IOException e) {
                // Rule: close never leaves the fd in our hands; EBADF here means a double-owner bug.
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Closes a raw fd this code owns but has not wrapped (e.g. one received and then refused). */
    public static void closeRaw(int fd) {
        adopt(fd).close();
    }

    @Override
    public String toString() {
        int v = fd.get();
        return v == CLOSED ? "OwnedFd[closed]" : "OwnedFd[" + v + "]";
    }
}
