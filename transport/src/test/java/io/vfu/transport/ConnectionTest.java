package io.vfu.transport;

import io.vfu.transport.nativeio.Fds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageException;
import io.vfu.transport.nativeio.EventFd;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConnectionTest {

    private static final Duration LONG = Duration.ofSeconds(5);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private Connection[] pair(CommandHandler left, CommandHandler right) throws Exception {
        UnixSocketTransport[] t = UnixSocketTransport.pair(TransportLimits.DEFAULT);
        Connection a = Connection.start(t[0], left, LONG, "test-a");
        Connection b = Connection.start(t[1], right, LONG, "test-b");
        toClose.add(a);
        toClose.add(b);
        return new Connection[] {a, b};
    }

    private static ByteBuffer bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return ByteBuffer.wrap(b);
    }

    /** Echoes each command's payload back as its reply. */
    private static final CommandHandler ECHO = (c, f) -> c.reply(f.header(), f.payload());

    @Test
    void pipelinedRequestsEachGetTheirOwnReply() throws Exception {
        Connection[] c = pair((x, f) -> { }, ECHO);
        List<CompletableFuture<Frame>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(c[0].request(Command.REGION_READ, bytes(i, i + 1)));
        }
        for (int i = 0; i < 200; i++) {
            try (Frame f = futures.get(i).get(5, TimeUnit.SECONDS)) {
                assertArrayEquals(bytes(i, i + 1).array(), f.payloadBytes());
                assertTrue(f.header().isReply());
            }
        }
        assertEquals(0, c[0].pendingCount());
    }

    @Test
    void repliesSentOutOfOrderAreMatchedByMsgId() throws Exception {
        LinkedBlockingQueue<Header> held = new LinkedBlockingQueue<>();
        Connection[] c = pair((x, f) -> { }, (conn, f) -> {
            held.add(f.header());
            if (held.size() == 3) {
                // Answer the last first: the reply names its request only by msg_id.
                List<Header> hs = new ArrayList<>(held);
                for (int i = hs.size() - 1; i >= 0; i--) {
                    conn.reply(hs.get(i), bytes(hs.get(i).msgId()));
                }
            }
        });
        List<CompletableFuture<Frame>> fs = List.of(c[0].request(Command.REGION_READ, bytes()),
                c[0].request(Command.REGION_READ, bytes()), c[0].request(Command.REGION_READ, bytes()));
        Set<Integer> ids = new HashSet<>();
        for (CompletableFuture<Frame> f : fs) {
            try (Frame r = f.get(5, TimeUnit.SECONDS)) {
                assertEquals(r.header().msgId() & 0xFF, r.payload().get(0) & 0xFF);
                ids.add(r.header().msgId());
            }
        }
        assertEquals(3, ids.size());
    }

    @Test
    void errorReplyAndHandlerErrorsFailTheFutureWithTheErrno() throws Exception {
        Connection[] c = pair((x, f) -> { }, (conn, f) -> {
            switch (f.header().command()) {
                case 9 -> throw new MessageException(Errno.EFAULT, "bad address");
                case 10 -> throw new IllegalStateException("handler bug");
                default -> conn.replyError(f.header(), Errno.ENOSPC);
            }
        });
        ExecutionException e1 = assertThrows(ExecutionException.class,
                () -> c[0].request(Command.REGION_READ, bytes()).get(5, TimeUnit.SECONDS));
        assertEquals(Errno.EFAULT.code(), ((ErrorReplyException) e1.getCause()).errno());
        ExecutionException e2 = assertThrows(ExecutionException.class,
                () -> c[0].request(Command.REGION_WRITE, bytes()).get(5, TimeUnit.SECONDS));
        assertEquals(Errno.EIO.code(), ((ErrorReplyException) e2.getCause()).errno());
        ExecutionException e3 = assertThrows(ExecutionException.class,
                () -> c[0].request(Command.DEVICE_RESET, bytes()).get(5, TimeUnit.SECONDS));
        assertEquals(Errno.ENOSPC.code(), ((ErrorReplyException) e3.getCause()).errno());
        assertTrue(c[1].isOpen(), "a failing handler does not close the session");
    }

    @Test
    void postedCommandsGetNoReplyEvenOnErrorAndAreHandledInOrder() throws Exception {
        List<Integer> seen = new ArrayList<>();
        Connection[] c = pair((x, f) -> { }, (conn, f) -> {
            seen.add(f.payload().get(0) & 0xFF);
            if (f.header().noReply()) {
                throw new MessageException(Errno.EINVAL, "refused, but nobody is told");
            }
            conn.reply(f.header(), bytes(seen.size()));
        });
        for (int i = 0; i < 5; i++) {
            c[0].post(Command.REGION_WRITE, bytes(i));
        }
        try (Frame r = c[0].request(Command.REGION_READ, bytes(5)).get(5, TimeUnit.SECONDS)) {
            // Spec "Command Concurrency": the posted commands were processed before this reply was sent.
            assertEquals(6, r.payload().get(0));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5), seen);
        assertEquals(0, c[0].pendingCount());
    }

    @Test
    void unansweredRequestTimesOutAndALateReplyIsDropped() throws Exception {
        LinkedBlockingQueue<Header> held = new LinkedBlockingQueue<>();
        Connection[] c = pair((x, f) -> { }, (conn, f) -> held.add(f.header()));
        CompletableFuture<Frame> f =
                c[0].request(Command.REGION_READ.code(), bytes(), Duration.ofMillis(50));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertInstanceOf(RequestTimeoutException.class, e.getCause());
        assertEquals(0, c[0].pendingCount());
        c[1].reply(held.take(), bytes(1));
        // The connection survives the late reply and keeps serving.
        CompletableFuture<Frame> next = c[0].request(Command.REGION_READ, bytes());
        c[1].reply(held.poll(5, TimeUnit.SECONDS), bytes(2));
        try (Frame r = next.get(5, TimeUnit.SECONDS)) {
            assertEquals(2, r.payload().get(0));
        }
    }

    @Test
    void closeFailsEveryPendingRequest() throws Exception {
        Connection[] c = pair((x, f) -> { }, (conn, f) -> { });
        CompletableFuture<Frame> f1 = c[0].request(Command.REGION_READ, bytes());
        CompletableFuture<Frame> f2 = c[0].request(Command.DEVICE_RESET, bytes());
        c[1].close();
        for (CompletableFuture<Frame> f : List.of(f1, f2)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, e.getCause());
        }
        c[0].closeFuture().get(5, TimeUnit.SECONDS);
        assertFalse(c[0].isOpen());
        ExecutionException after = assertThrows(ExecutionException.class,
                () -> c[0].request(Command.REGION_READ, bytes()).get(5, TimeUnit.SECONDS));
        assertInstanceOf(ConnectionClosedException.class, after.getCause());
    }

    @Test
    void msgIdWrapsAndSkipsAnIdStillInFlight() throws Exception {
        InMemoryTransport[] t = InMemoryTransport.pair(TransportLimits.DEFAULT);
        LinkedBlockingQueue<Header> held = new LinkedBlockingQueue<>();
        Connection server = Connection.start(t[1], (conn, f) -> {
            if (f.header().msgId() == 0 && held.isEmpty()) {
                held.add(f.header());
            } else {
                conn.reply(f.header(), bytes(f.header().msgId() & 0xFF, f.header().msgId() >> 8));
            }
        }, LONG, "srv");
        Connection client = Connection.start(t[0], (x, f) -> { }, LONG, "cli");
        toClose.add(client);
        toClose.add(server);
        CompletableFuture<Frame> first = client.request(Command.REGION_READ, bytes());
        held.poll(5, TimeUnit.SECONDS);
        Set<Integer> ids = new HashSet<>();
        for (int batch = 0; batch < 32; batch++) {
            List<CompletableFuture<Frame>> fs = new ArrayList<>();
            for (int i = 0; i < 1024; i++) {
                fs.add(client.request(Command.REGION_READ, bytes()));
            }
            for (CompletableFuture<Frame> f : fs) {
                try (Frame r = f.get(5, TimeUnit.SECONDS)) {
                    int id = r.header().msgId();
                    assertEquals(id, (r.payload().get(0) & 0xFF) | (r.payload().get(1) & 0xFF) << 8);
                    ids.add(id);
                }
            }
        }
        assertFalse(ids.contains(0), "msg_id 0 is in flight and must not be reused");
        // Requests use the lower half of the 16-bit ids; posted commands the upper half (Connection.isPostedId).
        assertEquals(32767, ids.size(), "every other request id was used after wrapping");
        assertTrue(ids.stream().noneMatch(Connection::isPostedId), "no request took a posted id");
        assertFalse(first.isDone());
    }

    @Test
    void commandWithTooManyFdsIsAnsweredEinvalAndTheSessionGoesOn() throws Exception {
        UnixSocketTransport[] t = UnixSocketTransport.pair(new TransportLimits(4096, 1));
        Connection client = Connection.start(t[0], (x, f) -> { }, LONG, "cli");
        Connection server = Connection.start(t[1], ECHO, LONG, "srv");
        toClose.add(client);
        toClose.add(server);
        try (EventFd e1 = EventFd.create(); EventFd e2 = EventFd.create()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> client
                    .request(Command.DEVICE_SET_IRQS, bytes(), e1.fd().fd(), e2.fd().fd()).get(5, TimeUnit.SECONDS));
            assertEquals(Errno.EINVAL.code(), ((ErrorReplyException) e.getCause()).errno());
            try (Frame ok = client.request(Command.DEVICE_SET_IRQS, bytes(4), e1.fd().fd()).get(5, TimeUnit.SECONDS)) {
                assertEquals(4, ok.payload().get(0));
            }
        }
    }

    @Test
    void eventFdSentWithARequestSignalsTheSender() throws Exception {
        Connection[] c = pair((x, f) -> { }, (conn, f) -> {
            try (EventFd e = EventFd.wrap(f.fds().take(0))) {
                e.add(7);
            }
            conn.reply(f.header());
        });
        try (EventFd e = EventFd.create()) {
            c[0].request(Command.DEVICE_SET_IRQS, bytes(), e.fd().fd()).get(5, TimeUnit.SECONDS).close();
            assertEquals(OptionalLong.of(7), e.await(Duration.ofSeconds(1)));
        }
    }

    /**
     * The deadlock trap: while handling a client command the server sends DMA_READ to the client and does not
     * wait; it answers the command, and keeps answering further commands while its DMA_READs are unanswered.
     * The client answers the DMA_READs only after the server answered both of its commands, which deadlocks
     * any design where the server waits for its own request before replying.
     */
    @Test
    void serverKeepsServingWhileItsOwnRequestsWaitOnTheClient() throws Exception {
        List<CompletableFuture<Frame>> dmaReplies = new ArrayList<>();
        CommandHandler server = (conn, f) -> {
            ByteBuffer dma = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            dma.putLong(0x1000L * (f.payload().get(0) + 1)).putLong(4).flip();
            synchronized (dmaReplies) {
                dmaReplies.add(conn.request(Command.DMA_READ, dma));
            }
            conn.reply(f.header(), bytes(0xAA, f.payload().get(0)));
        };
        LinkedBlockingQueue<Header> clientHeld = new LinkedBlockingQueue<>();
        CommandHandler client = (conn, f) -> clientHeld.add(f.header());
        Connection[] c = pair(client, server);

        try (Frame r1 = c[0].request(Command.REGION_READ, bytes(0)).get(5, TimeUnit.SECONDS)) {
            assertEquals(0, r1.payload().get(1));
        }
        try (Frame r2 = c[0].request(Command.REGION_READ, bytes(1)).get(5, TimeUnit.SECONDS)) {
            assertEquals(1, r2.payload().get(1));
        }
        assertEquals(2, c[1].pendingCount(), "both DMA_READs are still outstanding");
        // Only now does the client answer the server's requests.
        for (int i = 0; i < 2; i++) {
            Header dma = clientHeld.poll(5, TimeUnit.SECONDS);
            assertEquals(Command.DMA_READ.code(), dma.command());
            c[0].reply(dma, bytes(i, i, i, i));
        }
        for (int i = 0; i < 2; i++) {
            try (Frame d = dmaReplies.get(i).get(5, TimeUnit.SECONDS)) {
                assertArrayEquals(bytes(i, i, i, i).array(), d.payloadBytes());
            }
        }
    }

    @Test
    void brokenFramingFromThePeerClosesTheSessionAndFailsPendingRequests() throws Exception {
        UnixSocketTransport[] t = UnixSocketTransport.pair(TransportLimits.DEFAULT);
        Connection client = Connection.start(t[0], (x, f) -> { }, LONG, "cli");
        toClose.add(client);
        toClose.add(t[1]);
        try (EventFd e = EventFd.create()) {
            int before = Fds.openCount();
            CompletableFuture<Frame> f = client.request(Command.REGION_READ, bytes());
            t[1].receive().close();
            // A reply header announcing 100 bytes, with an fd, then the peer disconnects after 20 bytes.
            t[1].sendRaw(Messages.concat(Messages.header(0, 9, 100, Header.TYPE_REPLY), new byte[20]), e.fd().fd());
            t[1].close();
            ExecutionException ex = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, ex.getCause());
            assertInstanceOf(java.io.EOFException.class, ex.getCause().getCause());
            assertThrows(ExecutionException.class, () -> client.closeFuture().get(5, TimeUnit.SECONDS));
            assertEquals(before - 2, Fds.openCount(), "both socket fds and the fd sent with the broken reply are gone");
        }
    }
}
