package io.vfu.server.transport;

import java.io.IOException;
import java.net.BindException;
import java.net.SocketException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import io.vfu.server.nativeio.Fds;
import io.vfu.server.nativeio.OwnedFd;
import io.vfu.server.nativeio.UnixListenSocket;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.FileDescriptorCast;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A listening vfio-user socket (spec "Authentication": AF_UNIX relies on the socket file's permissions).
 *
 * <p>The socket is never reachable with a wider mode than 0600: it is bound, chmod-ed to 0600 and only then
 * put in listening state ({@link UnixListenSocket}); junixsocket then accepts on that fd. An existing file at the target is replaced only when it is a socket
 * that nothing listens on (a stale one); a live socket or any other file is refused. Closing removes the
 * socket file if it is still the one this listener created.
 */
public final class UnixSocketListener implements AutoCloseable {

    private final AFUNIXServerSocket server;
    private final Path path;
    private final Object fileKey;

    private UnixSocketListener(AFUNIXServerSocket server, Path path, Object fileKey) {
        this.server = server;
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
        Path target = path.toAbsolutePath();
        removeIfStale(target);
        OwnedFd fd = UnixListenSocket.bindAndListen(target, PosixFilePermissions.fromString("rw-------"), 16);
        try {
            AFUNIXServerSocket server =
                    FileDescriptorCast.using(Fds.toFileDescriptor(fd.fd())).as(AFUNIXServerSocket.class);
            fd.release();
            Object key = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            return new UnixSocketListener(server, target, key);
        } catch (IOException | RuntimeException e) {
            if (fd.isOpen()) {
                fd.close();
                Files.deleteIfExists(target);
            }
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
            throw new FileAlreadyExistsException(target.toString(), null, "exists and is not a socket");
        }
        AFUNIXSocketChannel probe;
        try {
            probe = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(target));
        } catch (SocketException e) {
            // Connection refused: nobody listens, so the file is stale and can go.
            Files.deleteIfExists(target);
            return;
        }
        probe.close();
        throw new BindException("a server is already listening on " + target);
    }

    /** The socket path. */
    public Path path() {
        return path;
    }

    /**
     * Waits for the next client. The returned transport's {@link UnixSocketTransport#peerCredentials()} tells
     * who connected, so a caller can refuse other UIDs.
     */
    public UnixSocketTransport accept(TransportLimits limits) throws IOException {
        AFUNIXSocket s = server.accept();
        return new UnixSocketTransport(s.getChannel(), limits);
    }

    /** Stops listening and removes the socket file if it is still ours. */
    @Override
    public void close() throws IOException {
        server.close();
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
