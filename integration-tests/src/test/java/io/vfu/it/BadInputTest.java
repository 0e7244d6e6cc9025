package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.protocol.Header;
import io.vfu.client.VfioUserClient;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import io.vfu.transport.nativeio.Fds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input over a real Unix socket to an in-process server: every broken message gets the right errno or
 * a closed session, a following good client is served, and the server's fd count ({@code /proc/self/fd}, the
 * server runs in this JVM) comes back to where it was.
 */
class BadInputTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final int VERSION = 1;
    private static final int DMA_MAP = 2;
    private static final int SET_IRQS = 8;
    private static final int REGION_READ = 9;
    private static final int REGION_WRITE = 10;
    private static final int E2BIG = 7;
    private static final int EBUSY = 16;
    private static final int EINVAL = 22;
    private static final int ENOSYS = 38;

    @TempDir
    Path dir;

    private VfuRig rig;
    private int baselineFds;

    @BeforeEach
    void startServer() throws Exception {
        rig = VfuRig.server(ServerConfig.single(dir.resolve("vfu.sock")));
        goodClientWorks(); // warms up lazily created threads and buffers before the baseline
        baselineFds = settledFdCount();
    }

    @AfterEach
    void stopServer() {
        rig.close();
    }

    /** One raw connection: bytes and fds exactly as the test writes them. */
    private final class Raw implements AutoCloseable {
        final UnixSocketTransport t;
        private int nextId = 1;

        /** Connects once the previous session has ended (one client at a time; a second gets EBUSY). */
        Raw() throws Exception {
            awaitIdle();
            t = UnixSocketTransport.connect(rig.socket, TransportLimits.DEFAULT);
        }

        Raw negotiated() throws Exception {
            byte[] json = "{\"capabilities\":{\"max_msg_fds\":16}}\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ByteBuffer p = ByteBuffer.allocate(4 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            p.putShort((short) 0).putShort((short) 0).put(json);
            try (Frame f = request(VERSION, p.array())) {
                assertEquals(0, f.header().error(), "VERSION accepted");
            }
            return this;
        }

        /** Sends a command with {@code payload}, returns the reply (never null: EOF fails the test). */
        Frame request(int command, byte[] payload, int... fds) throws Exception {
            t.sendRaw(message(nextId++, command, 16 + payload.length, payload), fds);
            Frame f = receive();
            assertNotNull(f, "the server closed the session instead of replying");
            return f;
        }

        /** The errno of the reply to this command (0 for success). */
        long errno(int command, byte[] payload, int... fds) throws Exception {
            try (Frame f = request(command, payload, fds)) {
                assertEquals(command, f.header().command(), "reply names the command");
                assertEquals(f.header().error() != 0, f.header().isError(), "Error flag matches errno");
                return f.header().error();
            }
        }

        /** The next frame, or null at end of stream (an IOException such as ECONNRESET also means closed). */
        Frame receive() throws Exception {
            CompletableFuture<Frame> f = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    f.complete(t.receive());
                } catch (IOException e) {
                    f.complete(null);
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
            return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }

        void assertClosedByServer() throws Exception {
            assertEquals(null, receive(), "the server closes the session");
        }

        @Override
        public void close() {
            t.close();
        }
    }

    static byte[] message(int id, int command, long size, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) id).putShort((short) command).putInt((int) size).putInt(0).putInt(0).put(payload);
        return b.array();
    }

    static byte[] regionAccess(long offset, int region, long count, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(offset).putInt(region).putInt((int) count).put(data).array();
    }

    private void awaitIdle() throws InterruptedException {
        Await.until(WAIT, () -> !rig.server.endpoints().getFirst().busy(), () -> "the previous session to end");
    }

    /**
     * A well-behaved client is served. A client that just went away may still hold the device for a moment
     * (the server learns of it from end of stream), so a busy refusal (EBUSY) is retried.
     */
    private void goodClientWorks() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        VfioUserClient c;
        while (true) {
            awaitIdle();
            try {
                c = Clients.negotiated(rig.socket);
                break;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ErrorReplyException er) || er.errno() != EBUSY
                        || System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
        try (VfioUserClient good = c) {
            assertEquals(0x0001_1b5aL, Clients.read32(good, Clients.REGION_CONFIG, 0), "vendor and device ID");
            assertEquals(0x3155_4656L, Clients.read32(good, Clients.REGION_BAR0, 0), "BAR0 ID");
        }
        awaitIdle();
    }

    /** The fd count once it has stopped moving (two looks 50 ms apart agree), or the last one after 5 s. */
    private static int settledFdCount() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int last = Fds.openCount();
        while (System.nanoTime() < deadline) {
            Thread.sleep(50);
            int now = Fds.openCount();
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }

    private void assertServerStillServesAndLeaksNoFds() throws Exception {
        goodClientWorks();
        Await.until(WAIT, () -> Fds.openCount() <= baselineFds,
                () -> "the fd count back at " + baselineFds + " or below, is " + Fds.openCount());
    }

    @Test
    void garbageClosesTheSession() throws Exception {
        try (Raw r = new Raw()) {
            byte[] junk = new byte[64];
            Arrays.fill(junk, (byte) 0xab); // size 0xabababab: beyond any limit, the stream cannot resync
            r.t.sendRaw(junk);
            r.assertClosedByServer();
        }
        try (Raw r = new Raw().negotiated()) {
            r.t.sendRaw(message(9, REGION_READ, 8, new byte[0])); // size smaller than a header
            r.assertClosedByServer();
        }
        try (Raw r = new Raw().negotiated()) {
            byte[] m = message(9, REGION_READ, 16, new byte[0]);
            m[8] = 7; // message type 7 is neither command nor reply
            r.t.sendRaw(m);
            r.assertClosedByServer();
        }
        assertServerStillServesAndLeaksNoFds();
    }

    @Test
    void truncatedMessagesAndADisconnectMidMessageEndOnlyThatSession() throws Exception {
        try (Raw r = new Raw()) {
            r.t.sendRaw(Arrays.copyOf(message(1, VERSION, 16, new byte[0]), 10)); // half a header
            r.t.shutdownOutput();
            r.assertClosedByServer();
        }
        try (Raw r = new Raw().negotiated()) {
            byte[] full = message(5, REGION_WRITE, 16 + 16 + 4096, regionAccess(0x80, 0, 4096, new byte[4096]));
            r.t.sendRaw(Arrays.copyOf(full, 16 + 100)); // header promises 4 KiB more than comes
            r.t.shutdownOutput();
            r.assertClosedByServer();
        }
        try (EventFd e = EventFd.create()) {
            Raw r = new Raw().negotiated();
            // Mid-message with an fd in flight, then the client just goes away.
            r.t.sendRaw(Arrays.copyOf(message(6, SET_IRQS, 16 + 20, new byte[20]), 20), e.fd().fd());
            r.close();
        }
        assertServerStillServesAndLeaksNoFds();
    }

    @Test
    void unknownCommandsAndCommandsBeforeVersionGetAnErrnoAndTheSessionGoesOn() throws Exception {
        try (Raw r = new Raw()) {
            assertEquals(EINVAL, r.errno(REGION_READ, regionAccess(0, 7, 4, new byte[0])),
                    "nothing before VERSION");
            r.negotiated();
            assertEquals(ENOSYS, r.errno(0x77, new byte[] {1, 2, 3}));
            assertEquals(ENOSYS, r.errno(0xffff, new byte[0]));
            assertEquals(ENOSYS, r.errno(14, new byte[0]), "14 (old dirty pages) was removed from the spec");
            assertEquals(EINVAL, r.errno(VERSION, new byte[] {0, 0, 0, 0}), "VERSION only once");
            try (Frame f = r.request(REGION_READ, regionAccess(0, 7, 4, new byte[0]))) {
                assertEquals(0, f.header().error(), "the session still works");
                assertEquals(0x1b5a, f.payload().order(ByteOrder.LITTLE_ENDIAN).getShort(16));
            }
        }
        Scrape s = rig.scrape();
        assertEquals(3, s.sum("vfu_errors_total", Map.of("errno", "ENOSYS")), s.text());
        assertServerStillServesAndLeaksNoFds();
    }

    @Test
    void overflowingOffsetsAndCountsAreRefusedWithEinval() throws Exception {
        try (Raw r = new Raw().negotiated()) {
            assertEquals(EINVAL, r.errno(REGION_READ, regionAccess(-4L, 0, 8, new byte[0])),
                    "offset + count wraps past 2^64");
            assertEquals(EINVAL, r.errno(REGION_READ, regionAccess(0x8000 - 2, 0, 4, new byte[0])),
                    "read crosses the end of BAR0");
            assertEquals(E2BIG, r.errno(REGION_READ, regionAccess(0, 0, 0xffff_ffffL, new byte[0])),
                    "count beyond max_data_xfer_size (protocol package rule: E2BIG)");
            assertEquals(EINVAL, r.errno(REGION_WRITE, regionAccess(-2L, 0, 4, new byte[4])),
                    "write offset wraps");
            assertEquals(EINVAL, r.errno(REGION_WRITE, regionAccess(0x80, 0, 8, new byte[4])),
                    "count larger than the data sent");
            assertEquals(EINVAL, r.errno(REGION_READ, regionAccess(0, 99, 4, new byte[0])), "no region 99");
            // DMA_MAP (argsz, flags, offset, address, size) whose range wraps.
            byte[] map = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(32).putInt(3).putLong(0).putLong(-0x1000L).putLong(0x2000).array();
            assertEquals(EINVAL, r.errno(DMA_MAP, map), "DMA window wraps past 2^64");
            // SET_IRQS (argsz, flags, index, start, count): start + count wraps a u32.
            byte[] irqs = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(20).putInt(0x21).putInt(2).putInt(-1).putInt(2).array();
            assertEquals(EINVAL, r.errno(SET_IRQS, irqs), "vector range wraps");
            byte[] big = new byte[(1 << 20) + 1];
            assertEquals(E2BIG, r.errno(REGION_WRITE, regionAccess(0, 0, big.length, big)),
                    "a write of max_data_xfer_size + 1 bytes (the message itself fits the transport limit)");
            try (Frame f = r.request(REGION_READ, regionAccess(0x8000 - 4, 0, 4, new byte[0]))) {
                assertEquals(0, f.header().error(), "the last dword of BAR0 is fine, the session goes on");
            }
        }
        assertServerStillServesAndLeaksNoFds();
    }

    @Test
    void tooManyFdsAreRefusedAndEveryFdIsClosed() throws Exception {
        List<EventFd> fds = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                fds.add(EventFd.create());
            }
            int[] raw = fds.stream().mapToInt(e -> e.fd().fd()).toArray();
            try (Raw r = new Raw().negotiated()) {
                // SET_IRQS MSI-X 0..39 with 40 eventfds: more than the 16 per message negotiated.
                byte[] irqs = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(20).putInt(0x24).putInt(2).putInt(0).putInt(40).array();
                assertEquals(EINVAL, r.errno(SET_IRQS, irqs, raw));
                assertEquals(0, rig.scrape().sum("vfu_vector_budget_used"), "nothing was assigned");
                // An fd with a command that takes none (REGION_READ) is refused too.
                assertEquals(EINVAL, r.errno(REGION_READ, regionAccess(0, 7, 4, new byte[0]), raw[0]));
                // Exactly the allowed 16 is fine: vectors 0..15 get eventfds.
                byte[] sixteen = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(20).putInt(0x24).putInt(2).putInt(0).putInt(16).array();
                assertEquals(0, r.errno(SET_IRQS, sixteen, Arrays.copyOf(raw, 16)));
                assertEquals(16, rig.scrape().sum("vfu_vector_budget_used"));
            }
            // The session's end returns the 16 targets and closes the server's copies of every fd.
            Await.until(WAIT, () -> rig.scrape().sum("vfu_vector_budget_used") == 0,
                    () -> "vfu_vector_budget_used 0, is " + rig.scrape().sum("vfu_vector_budget_used"));
        } finally {
            fds.forEach(EventFd::close);
        }
        assertServerStillServesAndLeaksNoFds();
    }

    @Test
    void postedCommandsGetNoReplyEvenWhenTheyFail() throws Exception {
        try (Raw r = new Raw().negotiated()) {
            // msg_id 100: posted write of SCRATCH[1]; 101: posted write out of range (fails silently);
            // 102: posted unknown command; then 103, a read that must be the very next frame to come back.
            r.t.sendRaw(posted(100, REGION_WRITE, regionAccess(0x84, 0, 4, new byte[] {0x78, 0x56, 0x34, 0x12})));
            r.t.sendRaw(posted(101, REGION_WRITE, regionAccess(0x7ffe, 0, 4, new byte[4])));
            r.t.sendRaw(posted(102, 0x77, new byte[0]));
            r.t.sendRaw(message(103, REGION_READ, 32, regionAccess(0x84, 0, 4, new byte[0])));
            try (Frame f = r.receive()) {
                assertNotNull(f);
                assertEquals(103, f.header().msgId(), "no reply to any posted command came first");
                assertEquals(0x1234_5678, f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(16), "posted write landed");
            }
        }
        Scrape s = rig.scrape();
        assertEquals(1, s.sum("vfu_errors_total", Map.of("errno", "EINVAL")), "the failed posted write is counted");
        assertEquals(1, s.sum("vfu_errors_total", Map.of("errno", "ENOSYS")), s.text());
        assertServerStillServesAndLeaksNoFds();
    }

    static byte[] posted(int id, int command, byte[] payload) {
        byte[] m = message(id, command, 16 + payload.length, payload);
        m[8] = Header.FLAG_NO_REPLY;
        return m;
    }
}
