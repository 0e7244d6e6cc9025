package io.vfu.transport;

import io.vfu.transport.nativeio.Fds;
import static io.vfu.transport.Messages.command;
import static io.vfu.transport.Messages.concat;
import static io.vfu.transport.Messages.filled;
import static io.vfu.transport.Messages.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.transport.nativeio.EventFd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The buffered receive path ({@link FrameReader}): many messages per recvmsg, and every fd still delivered
 * with the message it was sent with. Each received fd is identified by signalling it and reading the value on
 * the sender's copy of the eventfd.
 */
class BufferedReceiveTest {

    private static final TransportLimits SMALL = new TransportLimits(4096, 4);
    private static final TransportLimits LARGE = new TransportLimits(1 << 20, 4);

    private UnixSocketTransport a;
    private UnixSocketTransport b;
    private final List<EventFd> events = new ArrayList<>();
    private ExecutorService sender;

    private void open(TransportLimits limits) throws IOException {
        UnixSocketTransport[] p = UnixSocketTransport.pair(limits);
        a = p[0];
        b = p[1];
    }

    @AfterEach
    void closeAll() {
        if (sender != null) {
            sender.shutdownNow();
        }
        a.close();
        b.close();
        events.forEach(EventFd::close);
    }

    private int[] eventFds(int n) throws IOException {
        int[] raw = new int[n];
        for (int i = 0; i < n; i++) {
            EventFd e = EventFd.create();
            events.add(e);
            raw[i] = e.fd().fd();
        }
        return raw;
    }

    /** Asserts that fd {@code i} of {@code f} is the sender's eventfd {@code events.get(sent)}. */
    private void assertSameEventFd(Frame f, int i, int sent, long value) throws Exception {
        try (EventFd r = EventFd.wrap(f.fds().take(i))) {
            r.add(value);
        }
        assertEquals(OptionalLong.of(value), events.get(sent).await(Duration.ofSeconds(1)));
    }

    @Test
    void manySmallMessagesQueuedTogetherAreReadWithOneRecvmsg() throws Exception {
        open(SMALL);
        for (int i = 0; i < 50; i++) {
            a.send(command(i, 8, 8), filled(8, i));
        }
        long before = b.receiveCalls();
        for (int i = 0; i < 50; i++) {
            try (Frame f = b.receive()) {
                assertEquals(i, f.header().msgId());
                assertArrayEquals(filled(8, i).array(), f.payloadBytes());
                assertEquals(0, f.fds().count());
            }
        }
        assertEquals(1, b.receiveCalls() - before, "50 queued messages of 24 bytes fit one read");
    }

    @Test
    void fdsOnAMessageAfterSeveralWithoutGoToThatMessageOnly() throws Exception {
        open(SMALL);
        int[] fds = eventFds(2);
        for (int i = 0; i < 5; i++) {
            a.send(command(i, 9, 4), filled(4, i));
        }
        a.send(command(5, 8, 4), filled(4, 5), fds);
        a.send(command(6, 9, 4), filled(4, 6));
        a.send(command(7, 9, 0), ByteBuffer.allocate(0));
        for (int i = 0; i < 8; i++) {
            try (Frame f = b.receive()) {
                assertEquals(i, f.header().msgId());
                assertEquals(i == 5 ? 2 : 0, f.fds().count(), "message " + i);
                if (i == 5) {
                    assertSameEventFd(f, 0, 0, 50);
                    assertSameEventFd(f, 1, 1, 51);
                }
            }
        }
        // The kernel stops a read after the skb that carries fds: messages 0..5, then 6..7.
        a.shutdownOutput();
        assertNull(b.receive());
    }

    @Test
    void fdsOnAMessageWhoseHeaderIsSplitAcrossTwoReads() throws Exception {
        open(SMALL);
        int[] fds = eventFds(1);
        byte[] second = concat(header(2, 8, 20, 0), new byte[] {9, 8, 7, 6});
        a.send(command(1, 9, 4), filled(4, 1));
        a.sendRaw(Arrays.copyOf(second, 7), fds);
        try (Frame f = b.receive()) {
            // This read returned message 1 and the first 7 bytes of message 2, with message 2's fd.
            assertEquals(1, f.header().msgId());
            assertEquals(0, f.fds().count());
        }
        a.sendRaw(Arrays.copyOfRange(second, 7, second.length));
        try (Frame f = b.receive()) {
            assertEquals(2, f.header().msgId());
            assertArrayEquals(new byte[] {9, 8, 7, 6}, f.payloadBytes());
            assertEquals(1, f.fds().count());
            assertSameEventFd(f, 0, 0, 7);
        }
    }

    @Test
    void fdsSentWithThePayloadAfterAHeaderOnlySendmsgStayWithTheirMessage() throws Exception {
        open(SMALL);
        int[] fds = eventFds(1);
        a.send(command(1, 9, 4), filled(4, 1));
        a.sendRaw(header(2, 8, 20, 0));
        a.sendRaw(new byte[] {1, 2, 3, 4}, fds);
        a.send(command(3, 9, 0), ByteBuffer.allocate(0));
        try (Frame f1 = b.receive(); Frame f2 = b.receive(); Frame f3 = b.receive()) {
            assertEquals(List.of(1, 2, 3), List.of(f1.header().msgId(), f2.header().msgId(),
                    f3.header().msgId()));
            assertEquals(0, f1.fds().count());
            assertEquals(1, f2.fds().count());
            assertEquals(0, f3.fds().count());
            assertSameEventFd(f2, 0, 0, 3);
        }
    }

    @Test
    void largerThanTheBufferWithFdsBetweenSmallOnes() throws Exception {
        open(LARGE);
        int[] bigFds = eventFds(2);
        int[] lastFds = eventFds(1);
        int big = 3 * FrameReader.CAPACITY + 123;
        ByteBuffer bigPayload = ByteBuffer.allocate(big);
        for (int i = 0; i < big; i++) {
            bigPayload.put(i, (byte) (i * 31));
        }
        sender = Executors.newSingleThreadExecutor();
        // The sender blocks once the socket buffer is full, so it runs on its own thread.
        Future<?> sent = sender.submit(() -> {
            a.send(command(1, 9, 4), filled(4, 1));
            a.send(command(2, 8, big), bigPayload, bigFds);
            a.send(command(3, 8, 0), ByteBuffer.allocate(0), lastFds);
            a.send(command(4, 9, 2), filled(2, 4));
            return null;
        });
        try (Frame f1 = b.receive(); Frame f2 = b.receive(); Frame f3 = b.receive(); Frame f4 = b.receive()) {
            sent.get();
            assertEquals(List.of(1, 2, 3, 4), List.of(f1.header().msgId(), f2.header().msgId(),
                    f3.header().msgId(), f4.header().msgId()));
            assertEquals(List.of(0, 2, 1, 0), List.of(f1.fds().count(), f2.fds().count(), f3.fds().count(),
                    f4.fds().count()));
            assertEquals(big, f2.payload().remaining());
            assertEquals(0, f2.payload().position());
            assertArrayEquals(bigPayload.array(), f2.payloadBytes());
            assertArrayEquals(filled(2, 4).array(), f4.payloadBytes());
            assertSameEventFd(f2, 0, 0, 20);
            assertSameEventFd(f2, 1, 1, 21);
            assertSameEventFd(f3, 0, 2, 30);
        }
    }

    @Test
    void burstOfTenThousandPostedMessagesArrivesInOrderWithItsFds() throws Exception {
        open(SMALL);
        int[] fds = eventFds(10);
        int n = 10_000;
        int before = io.vfu.transport.nativeio.Fds.openCount();
        sender = Executors.newSingleThreadExecutor();
        Future<?> sent = sender.submit(() -> {
            for (int i = 0; i < n; i++) {
                // Every 1000th message carries one fd; the payload size varies so messages straddle reads.
                int len = 4 + (i % 13) * 8;
                if (i % 1000 == 999) {
                    a.send(command(i & 0xFFFF, 9, len), filled(len, i), fds[i / 1000]);
                } else {
                    a.send(command(i & 0xFFFF, 9, len), filled(len, i));
                }
            }
            return null;
        });
        long calls = b.receiveCalls();
        for (int i = 0; i < n; i++) {
            try (Frame f = b.receive()) {
                assertEquals(i & 0xFFFF, f.header().msgId());
                int len = 4 + (i % 13) * 8;
                assertEquals(len, f.payload().remaining());
                assertEquals((byte) i, f.payload().get(len - 1));
                if (i % 1000 == 999) {
                    assertEquals(1, f.fds().count(), "message " + i);
                    assertSameEventFd(f, 0, i / 1000, i);
                } else {
                    assertEquals(0, f.fds().count(), "message " + i);
                }
            }
        }
        sent.get();
        assertTrue(b.receiveCalls() - calls <= n, "never more than one recvmsg per message");
        assertEquals(before, io.vfu.transport.nativeio.Fds.openCount(), "no fd leaked or left open");
    }
}
