package io.vfu.server.socket;

import io.vfu.transport.Connection;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import io.vfu.transport.nativeio.ErrnoNames;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.UnixListenSocket;
import io.vfu.transport.nativeio.UnixSockets;

/**
 * A listening vfio-user socket (spec "Authentication": AF_UNIX relies on the socket file's permissions).
 *
 * <p>The socket is never reachable with a wider mode or another group than configured ({@link SocketAccess},
 * 0600 and the server's group by default): it is bound, restricted to 0600, given its group and mode, and only
 * then put in listening state ({@link UnixListenSocket}); accept4(2) then waits on that fd ({@link UnixSockets}).
 * An existing file at the target is replaced only when it is a socket that nothing listens on (a stale one); a
 * live socket or any other file is refused. Closing removes the socket file if it is still the one this
 * listener created.
 *
 * <p>Close: {@link #close()} shuts the listening socket down, which makes a blocked accept4 fail, then waits
 * for the accepting thread to leave the call before releasing the fd, so no thread ever accepts on a recycled
 * fd number.
 */
public final class UnixSocketListener implements AutoCloseable {

    private static final int EAGAIN = 11;
    private static final int EEXIST = 17;
    private static final int EADDRINUSE = 98;

    private final OwnedFd fd;
    private final Path path;
    private final Object fileKey;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();

    private UnixSocketListener(OwnedFd fd, Path path, Object fileKey) {
        this.fd = fd;
        this.path = path;
        this.fileKey = fileKey;
    }

    /**
     * Binds and listens on {@code path} with mode 0600.
     *
     * @throws BindException              when a server is already listening there
     * @throws FileAlreadyExistsException when a non-socket file is in the way
     */
    public static UnixSocketListener bind(Path path) throws IOException {
        return bind(path, SocketAccess.PRIVATE);
    }

    /**
     * Binds and listens on {@code path} with {@code access}'s mode and group.
     *
     * @throws BindException              when a server is already listening there
     * @throws FileAlreadyExistsException when a non-socket file is in the way
     * @throws IOException                naming the path and group when the group cannot be set
     */
    public static UnixSocketListener bind(Path path, SocketAccess access) throws IOException {
        Path target = path.toAbsolutePath();
        removeIfStale(target);
        OwnedFd fd;
        try {
            fd = UnixListenSocket.bindAndListen(target, access.mode().permissions(),
                    access.group().<UnixListenSocket.GroupSetter>map(g -> g::applyTo).orElse(null), 16);
        } catch (NativeCallException e) {
            // Rule: a failure names the path and the errno by name and text, never a bare number.
            String what = "cannot " + (e.call().equals("listen") ? "listen on " : "bind ") + target + ": "
                    + e.reason();
            throw e.errno() == EADDRINUSE ? (IOException) new BindException(what).initCause(e)
                    : new IOException(what, e);
        } catch (java.nio.file.FileSystemException e) {
            throw new IOException("cannot bind " + target + ": " + ErrnoNames.reason(e), e);
        }
        try {
            Object key = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            return new UnixSocketListener(fd, target, key);
        } catch (IOException | RuntimeException e) {
            fd.close();
            Files.deleteIfExists(target);
            throw e;
        }
    }

    private static void removeIfStale(Path target) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!a.isOther()) {
            throw new NotASocketException(target);
        }
        OwnedFd probe;
        try {
            probe = UnixSockets.connect(target);
        } catch (ConnectException e) {
            // Connection refused: nobody listens, so the file is stale and can go.
            Files.deleteIfExists(target);
            return;
        }
        probe.close();
        throw new BindException("cannot bind " + target + ": " + ErrnoNames.describe(EADDRINUSE)
                + ": a server is already listening there");
    }

    /** A file that is not a socket is where a socket should be bound; it is left alone. */
    private static final class NotASocketException extends FileAlreadyExistsException {
        NotASocketException(Path target) {
            super(target.toString(), null, "cannot bind " + target + ": " + ErrnoNames.describe(EEXIST)
                    + ": the file is not a socket, so it is left alone");
        }

        @Override
        public String getMessage() {
            return getReason();
        }
    }

    /** The socket path. */
    public Path path() {
        return path;
    }

    /**
     * Whether a client can reach this listener now: it is open and its path still names the socket it bound.
     * Nothing connects to find out (a probe would be a client to the device); a socket file removed or replaced
     * by someone else is what makes an open listener unreachable.
     */
    public boolean listening() {
        if (closed.get()) {
            return false;
        }
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            return key != null && key.equals(fileKey);
        } catch (IOException e) {
            return false; // removed, or its directory cannot be read: no client can connect by this path
        }
    }

    /**
     * Waits for the next client. The returned transport's {@link UnixSocketTransport#peerCredentials()} tells
     * who connected, so a caller can refuse other UIDs.
     */
    public UnixSocketTransport accept(TransportLimits limits) throws IOException {
        return acceptOne(limits);
    }

    /**
     * One accept4 under the accept lock (close waits for it before releasing the fd).
     *
     * @return the client's transport, or null when the socket is non-blocking and no connection waits (EAGAIN)
     */
    private UnixSocketTransport acceptOne(TransportLimits limits) throws IOException {
        acceptLock.lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            OwnedFd client;
            try {
                client = UnixSockets.accept(fd.fd());
            } catch (NativeCallException e) {
                if (closed.get()) {
                    throw new ClosedChannelException();
                }
                if (e.errno() == EAGAIN) {
                    return null;
                }
                throw e;
            }
            // Rule: a session socket blocks (its reader sleeps in recvmsg); accept4 gave it no O_NONBLOCK.
            return UnixSocketTransport.adopt(client, limits);
        } finally {
            acceptLock.unlock();
        }
    }

    /** The listening fd for an {@link AcceptLoop} to poll, or -1 once closed (poll(2) skips negative fds). */
    int pollFd() {
        if (closed.get()) {
            return -1;
        }
        try {
            return fd.fd();
        } catch (IllegalStateException e) {
            return -1; // closed concurrently
        }
    }

    /**
     * Puts the socket in non-blocking mode for {@link #tryAccept}; from then on only {@link #tryAccept} is
     * used on it (an {@link AcceptLoop} does this when the listener is registered).
     */
    void nonBlocking() throws IOException {
        io.vfu.transport.nativeio.Fds.setNonBlocking(fd.fd());
    }

    /**
     * Accepts one waiting client without blocking (after {@link #nonBlocking}).
     *
     * @return the client's transport, or null when no connection is waiting (EAGAIN)
     */
    UnixSocketTransport tryAccept(TransportLimits limits) throws IOException {
        return acceptOne(limits);
    }

    /** Stops listening (waking a blocked {@link #accept}) and removes the socket file if it is still ours. */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            UnixSockets.shutdown(fd.fd());
        } catch (NativeCallException ignored) {
            // nothing is blocked on a socket that cannot be shut down
        }
        // Rule: the fd is released only when no thread can be inside accept4 on it.
        acceptLock.lock();
        try {
            fd.close();
        } finally {
            acceptLock.unlock();
        }
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            if (key != null && key.equals(fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (java.nio.file.NoSuchFileException ignored) {
            // already gone
        }
    }
}
