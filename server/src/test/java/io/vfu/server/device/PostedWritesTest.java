package io.vfu.server.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.transport.Connection;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The device host's queue of posted writes on its own: whose writes they are, how far it grows. */
class PostedWritesTest {

    /** A connection over a socketpair whose peer records the posted writes' data words. */
    private static final class Pair implements AutoCloseable {
        final Connection server;
        final Connection client;
        final LinkedBlockingQueue<Integer> received = new LinkedBlockingQueue<>();

        Pair() throws Exception {
            UnixSocketTransport[] t = UnixSocketTransport.pair(TransportLimits.DEFAULT);
            server = Connection.start(t[0], (c, f) -> { }, Duration.ofSeconds(5), "test-server");
            client = Connection.start(t[1], (c, f) -> received.add(dataOf(f)), Duration.ofSeconds(5), "test-client");
        }

        private static int dataOf(Frame f) {
            return f.payload().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(16);
        }

        @Override
        public void close() {
            client.close();
            server.close();
        }
    }

    @Test
    void writesGoOnlyToTheConnectionTheyWereRaisedFor() throws Exception {
        PostedWrites q = new PostedWrites();
        try (Pair old = new Pair(); Pair next = new Pair()) {
            q.add(old.server, 0xFEE0_0000L, 1);
            q.add(next.server, 0xFEE0_0000L, 2); // the old client left: its write is stale now
            assertEquals(0, q.drain(old.server), "a flusher holding the old connection sends nothing");
            assertEquals(1, q.drain(next.server));
            assertEquals(2, next.received.poll(5, TimeUnit.SECONDS));
            assertTrue(old.received.isEmpty(), "the old client never got the new client's write");
        }
    }

    @Test
    void theQueueGrowsForOneCallsBurstThenDropsPastItsMaximum() throws Exception {
        PostedWrites q = new PostedWrites();
        try (Pair p = new Pair()) {
            for (int i = 0; i < PostedWrites.MAX; i++) {
                assertTrue(q.add(p.server, 0xFEE0_0000L, i), "write " + i + " is queued");
            }
            assertFalse(q.add(p.server, 0xFEE0_0000L, -1), "past the maximum a write is dropped, not waited for");
            assertEquals(PostedWrites.MAX, q.drain(p.server));
            for (int i = 0; i < PostedWrites.MAX; i++) {
                assertEquals(i, p.received.poll(5, TimeUnit.SECONDS), "in order");
            }
            q.add(p.server, 0xFEE0_0000L, 7);
            q.clear();
            assertEquals(0, q.drain(p.server), "cleared writes are gone");
        }
    }
}
