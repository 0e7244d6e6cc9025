package io.vfu.client;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageException;
import io.vfu.transport.Connection;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import io.vfu.transport.Transport;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * A vfio-user client: connects to a server socket, sends commands and awaits their replies by msg_id
 * (pipelined freely), sends posted (No_reply) commands, attaches fds, and serves the server's DMA_READ /
 * DMA_WRITE requests through a {@link DmaHandler}. Payloads are raw little-endian bytes; typed codecs live in
 * the protocol module. Thread-safe: any thread may send.
 */
public final class VfioUserClient implements AutoCloseable {

    /** How long {@link #request(Command, ByteBuffer, int...)} and {@link #call} wait by default. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Connection connection;
    private final DmaHandler dma;

    private VfioUserClient(Transport transport, Duration timeout, DmaHandler dma) {
        this.dma = Objects.requireNonNull(dma);
        this.connection = Connection.start(transport, this::onServerCommand, timeout, "vfu-client");
    }

    /** Connects to {@code socket} with default limits and timeout. */
    public static VfioUserClient connect(Path socket, DmaHandler dma) throws IOException {
        return connect(socket, TransportLimits.DEFAULT, DEFAULT_TIMEOUT, dma);
    }

    public static VfioUserClient connect(Path socket, TransportLimits limits, Duration timeout, DmaHandler dma)
            throws IOException {
        return new VfioUserClient(UnixSocketTransport.connect(socket, limits), timeout, dma);
    }

    /** A client over an already connected transport (e.g. one end of a socketpair); it now owns it. */
    public static VfioUserClient over(Transport transport, Duration timeout, DmaHandler dma) {
        return new VfioUserClient(transport, timeout, dma);
    }

    /** The underlying engine (pending count, close future, raw requests with an int command). */
    public Connection connection() {
        return connection;
    }

    /**
     * The VERSION payload (spec "VFIO_USER_VERSION"): {@code major u16, minor u16}, then the UTF-8 JSON text
     * and its terminating NUL. {@code json} may be null for no version data.
     */
    public static ByteBuffer versionPayload(int major, int minor, String json) {
        if ((major & ~0xFFFF) != 0 || (minor & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("major and minor are u16");
        }
        byte[] text = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + text.length + (json == null ? 0 : 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) major).putShort((short) minor).put(text);
        if (json != null) {
            b.put((byte) 0);
        }
        return b.flip();
    }

    /** Sends VERSION with {@code {"capabilities":capabilitiesJson}} (an object literal, e.g. {@code {"max_msg_fds":16}}). */
    public CompletableFuture<Frame> version(int major, int minor, String capabilitiesJson) {
        String json = capabilitiesJson == null ? null : "{\"capabilities\":" + capabilitiesJson + "}";
        return request(Command.VERSION, versionPayload(major, minor, json));
    }

    /** Sends a command; the future completes with the reply frame (close it) or fails (see {@link Connection#request}). */
    public CompletableFuture<Frame> request(Command command, ByteBuffer payload, int... fds) {
        return connection.request(command, payload, fds);
    }

    public CompletableFuture<Frame> request(Command command, ByteBuffer payload, Duration timeout, int... fds) {
        return connection.request(command.code(), payload, timeout, fds);
    }

    /**
     * Sends a command and blocks for its reply.
     *
     * @throws IllegalStateException when called from a {@link DmaHandler} (the reader thread, which would
     *                               have to read the very reply it waits for)
     */
    public Frame call(Command command, ByteBuffer payload, int... fds)
            throws IOException, ErrorReplyException, TimeoutException {
        if (connection.onReaderThread()) {
            throw new IllegalStateException("call() on the reader thread would deadlock; use request()");
        }
        try {
            return request(command, payload, fds).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a reply");
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case ErrorReplyException er -> throw er;
                case TimeoutException te -> throw te;
                case MessageException me -> throw new IOException(me);
                case RuntimeException re -> throw re;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    /** Sends a posted command (No_reply): returns once it is on the socket. */
    public void post(Command command, ByteBuffer payload, int... fds) throws IOException {
        connection.post(command, payload, fds);
    }

    private void onServerCommand(Connection c, Frame frame) throws Exception {
        Header h = frame.header();
        ByteBuffer p = frame.payload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Command cmd = Command.fromCode(h.command());
        if (cmd == Command.DMA_READ) {
            // Spec DMA_READ request: address u64, count u64 (count is 8 bytes in QEMU 11).
            if (p.remaining() != 16) {
                throw new MessageException(Errno.EINVAL, "DMA_READ payload must be 16 bytes");
            }
            long address = p.getLong(0);
            long count = p.getLong(8);
            if (Long.compareUnsigned(count, c.transport().limits().maxMessageSize() - Header.SIZE - 16) > 0) {
                throw new MessageException(Errno.EINVAL, "DMA_READ count " + Long.toUnsignedString(count));
            }
            ByteBuffer data = dma.read(address, count);
            if (data.remaining() != count) {
                throw new MessageException(Errno.EIO, "DMA handler returned " + data.remaining() + " bytes");
            }
            ByteBuffer reply = ByteBuffer.allocate(16 + (int) count).order(ByteOrder.LITTLE_ENDIAN);
            reply.putLong(address).putLong(count).put(data.duplicate()).flip();
            c.reply(h, reply);
        } else if (cmd == Command.DMA_WRITE) {
            // Spec DMA_WRITE request: address u64, count u64, data; reply: address u64, count u64.
            if (p.remaining() < 16) {
                throw new MessageException(Errno.EINVAL, "DMA_WRITE payload shorter than 16 bytes");
            }
            long address = p.getLong(0);
            long count = p.getLong(8);
            if (count != p.remaining() - 16) {
                throw new MessageException(Errno.EINVAL, "DMA_WRITE count " + Long.toUnsignedString(count)
                        + " but " + (p.remaining() - 16) + " data bytes");
            }
            try {
                dma.write(address, p.slice(16, (int) count).order(ByteOrder.LITTLE_ENDIAN));
            } catch (MessageException e) {
                if (h.noReply()) {
                    // As QEMU does (hw/vfio-user/pci.c): a posted DMA_WRITE that fails is still answered, with
                    // an error reply, so the server learns its write was lost.
                    c.transport().send(Header.errorReply(h.msgId(), h.command(), e.errno()), ByteBuffer.allocate(0));
                    return;
                }
                throw e;
            }
            ByteBuffer reply = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            reply.putLong(address).putLong(count).flip();
            c.reply(h, reply);
        } else {
            throw new MessageException(Errno.ENOSYS, "client does not serve command " + h.command());
        }
    }

    /** Closes the connection; outstanding requests fail with ConnectionClosedException. */
    @Override
    public void close() {
        connection.close();
    }
}
