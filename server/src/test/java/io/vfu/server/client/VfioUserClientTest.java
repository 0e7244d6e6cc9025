package io.vfu.server.client;

import io.vfu.client.*;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.transport.CommandHandler;
import io.vfu.transport.Connection;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.server.socket.UnixSocketListener;
import io.vfu.transport.UnixSocketTransport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try")
class VfioUserClientTest {

    @TempDir
    Path dir;

    @Test
    void versionPayloadFollowsTheSpecLayout() {
        // Spec "VFIO_USER_VERSION": major u16 = 1, minor u16 = 2, then JSON bytes and a NUL.
        byte[] expected = {0x01, 0x00, 0x02, 0x00, '{', '}', 0x00};
        ByteBuffer p = VfioUserClient.versionPayload(1, 2, "{}");
        byte[] got = new byte[p.remaining()];
        p.get(got);
        assertArrayEquals(expected, got);
        assertThrows(IllegalArgumentException.class, () -> VfioUserClient.versionPayload(0x10000, 0, "{}"));
    }

    /** A little guest memory of 64 bytes at 0x1000 for the client's DMA handler. */
    private static final class Memory implements DmaHandler {
        final byte[] bytes = new byte[64];

        @Override
        public ByteBuffer read(long address, long count) throws MessageException {
            check(address, count);
            return ByteBuffer.wrap(bytes, (int) (address - 0x1000), (int) count);
        }

        @Override
        public void write(long address, ByteBuffer data) throws MessageException {
            check(address, data.remaining());
            data.get(bytes, (int) (address - 0x1000), data.remaining());
        }

        private static void check(long address, long count) throws MessageException {
            // Rule: the access lies inside [0x1000, 0x1040), tested without overflow.
            if (address < 0x1000 || count > 64 || address - 0x1000 > 64 - count) {
                throw new MessageException(Errno.EFAULT, "outside client memory");
            }
        }
    }

    /** The bytes of {@code text}, one per char (the JSON here is ASCII; NULs and u16 zeros as \0). */
    private static byte[] ascii(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static ByteBuffer dmaHeader(long address, long count, byte... data) {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(address).putLong(count).put(data).flip();
    }

    @Test
    void clientServesDmaWhileItsOwnSynchronousRequestIsOutstanding() throws Exception {
        Path sock = dir.resolve("s.sock");
        Memory memory = new Memory();
        AtomicReference<CompletableFuture<Frame>> dmaWrite = new AtomicReference<>();
        AtomicReference<CompletableFuture<Frame>> dmaRead = new AtomicReference<>();
        // The server handles REGION_WRITE by issuing DMA_WRITE then DMA_READ to the client, without waiting.
        CommandHandler server = (conn, f) -> {
            if (f.header().command() == Command.REGION_WRITE.code()) {
                dmaWrite.set(conn.request(Command.DMA_WRITE, dmaHeader(0x1008, 4, (byte) 9, (byte) 8, (byte) 7, (byte) 6)));
                dmaRead.set(conn.request(Command.DMA_READ, dmaHeader(0x1008, 4)));
                conn.reply(f.header());
            } else {
                conn.replyError(f.header(), Errno.ENOSYS);
            }
        };
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
                VfioUserClient client = VfioUserClient.connect(sock, memory);
                UnixSocketTransport accepted = l.accept(TransportLimits.DEFAULT);
                Connection srv = Connection.start(accepted, server, Duration.ofSeconds(5), "srv")) {
            client.call(Command.REGION_WRITE, ByteBuffer.allocate(0)).close();
            try (Frame w = dmaWrite.get().get(5, TimeUnit.SECONDS);
                    Frame r = dmaRead.get().get(5, TimeUnit.SECONDS)) {
                ByteBuffer wp = w.payload().order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(16, wp.remaining(), "DMA_WRITE reply is address u64, count u64");
                assertEquals(0x1008, wp.getLong(0));
                assertEquals(4, wp.getLong(8));
                ByteBuffer rp = r.payload().order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(0x1008, rp.getLong(0));
                assertEquals(4, rp.getLong(8));
                assertArrayEquals(new byte[] {9, 8, 7, 6}, java.util.Arrays.copyOfRange(r.payloadBytes(), 16, 20));
            }
            // An access outside client memory comes back as an error reply with EFAULT.
            ExecutionException e = assertThrows(ExecutionException.class, () -> srv
                    .request(Command.DMA_READ, dmaHeader(0x2000, 4)).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EFAULT.code(), ((ErrorReplyException) e.getCause()).errno());
            // A malformed DMA_READ (count field missing) is EINVAL; a command the client does not serve is ENOSYS.
            ExecutionException bad = assertThrows(ExecutionException.class, () -> srv
                    .request(Command.DMA_READ, ByteBuffer.allocate(8)).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EINVAL.code(), ((ErrorReplyException) bad.getCause()).errno());
            ExecutionException unknown = assertThrows(ExecutionException.class, () -> srv
                    .request(Command.REGION_READ, ByteBuffer.allocate(0)).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.ENOSYS.code(), ((ErrorReplyException) unknown.getCause()).errno());
            // The server's own error reply surfaces from call() as ErrorReplyException.
            ErrorReplyException er = assertThrows(ErrorReplyException.class,
                    () -> client.call(Command.DEVICE_RESET, ByteBuffer.allocate(0)));
            assertEquals(Errno.ENOSYS.code(), er.errno());
        }
    }

    @Test
    void versionRoundTripAndPostedWritesOverARealSocket() throws Exception {
        Path sock = dir.resolve("v.sock");
        StringBuffer seen = new StringBuffer();
        AtomicReference<byte[]> versionSent = new AtomicReference<>();
        // Spec "VFIO_USER_VERSION" reply: major u16, minor u16, JSON, NUL; written out here, not by our encoder.
        byte[] versionReply = ascii("\0\0\0\0{\"capabilities\":{\"max_msg_fds\":8}}\0");
        CommandHandler server = (conn, f) -> {
            seen.append(f.header().command()).append(f.header().noReply() ? "p " : " ");
            if (f.header().command() == Command.VERSION.code()) {
                versionSent.set(f.payloadBytes());
                conn.reply(f.header(), ByteBuffer.wrap(versionReply));
            } else {
                conn.reply(f.header(), f.payload());
            }
        };
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
                VfioUserClient client = VfioUserClient.connect(sock, DmaHandler.refuseAll());
                Connection srv = Connection.start(l.accept(TransportLimits.DEFAULT), server, Duration.ofSeconds(5),
                        "srv")) {
            try (Frame v = client.version(0, 0, "{\"max_msg_fds\":16}").get(5, TimeUnit.SECONDS)) {
                // The request as the spec lays it out (major 0, minor 0, the capabilities object, NUL), and the
                // client hands back the server's reply, not its own request.
                assertArrayEquals(ascii("\0\0\0\0{\"capabilities\":{\"max_msg_fds\":16}}\0"), versionSent.get());
                assertArrayEquals(versionReply, v.payloadBytes());
            }
            client.post(Command.REGION_WRITE, ByteBuffer.wrap(new byte[] {1}));
            client.post(Command.REGION_WRITE, ByteBuffer.wrap(new byte[] {2}));
            client.call(Command.REGION_READ, ByteBuffer.allocate(0)).close();
            assertEquals("1 10p 10p 9 ", seen.toString());
            srv.close();
            ExecutionException closed = assertThrows(ExecutionException.class,
                    () -> client.request(Command.REGION_READ, ByteBuffer.allocate(0)).get(5, TimeUnit.SECONDS));
            assertInstanceOf(java.io.IOException.class, closed.getCause());
        }
    }

    @Test
    void blockingCallFromTheDmaHandlerIsRefusedInsteadOfDeadlocking() throws Exception {
        Path sock = dir.resolve("r.sock");
        AtomicReference<VfioUserClient> self = new AtomicReference<>();
        AtomicReference<Throwable> seen = new AtomicReference<>();
        DmaHandler reentrant = new DmaHandler() {
            @Override
            public ByteBuffer read(long address, long count) throws MessageException {
                try {
                    self.get().call(Command.REGION_READ, ByteBuffer.allocate(0)).close();
                } catch (Exception | Error e) {
                    seen.set(e);
                }
                throw new MessageException(Errno.EAGAIN, "refused");
            }

            @Override
            public void write(long address, ByteBuffer data) {
            }
        };
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
                VfioUserClient client = VfioUserClient.connect(sock, reentrant);
                Connection srv = Connection.start(l.accept(TransportLimits.DEFAULT), (c, f) -> c.reply(f.header()),
                        Duration.ofSeconds(5), "srv")) {
            self.set(client);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> srv.request(Command.DMA_READ, dmaHeader(0x1000, 4)).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EAGAIN.code(), ((ErrorReplyException) e.getCause()).errno());
            assertInstanceOf(IllegalStateException.class, seen.get());
            // The client is still fully usable from its own threads.
            client.call(Command.REGION_READ, ByteBuffer.allocate(0)).close();
        }
    }
}
