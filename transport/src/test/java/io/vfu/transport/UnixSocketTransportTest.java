package io.vfu.transport;

import io.vfu.transport.nativeio.Fds;
import static io.vfu.transport.Messages.command;
import static io.vfu.transport.Messages.concat;
import static io.vfu.transport.Messages.filled;
import static io.vfu.transport.Messages.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.OwnedFd;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UnixSocketTransportTest {

    private static final TransportLimits LIMITS = new TransportLimits(4096, 4);

    private UnixSocketTransport a;
    private UnixSocketTransport b;
    private final List<EventFd> events = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        UnixSocketTransport[] p = UnixSocketTransport.pair(LIMITS);
        a = p[0];
        b = p[1];
    }

    @AfterEach
    void closeAll() {
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

    @Test
    void fdsArriveWithTheirOwnMessageWhenSentBackToBack() throws Exception {
        int[] first = eventFds(2);
        int[] third = eventFds(1);
        a.send(command(1, 8, 4), filled(4, 1), first);
        a.send(command(2, 9, 24), filled(24, 2));
        a.send(command(3, 8, 0), ByteBuffer.allocate(0), third);
        a.send(command(4, 10, 3), filled(3, 4));

        try (Frame f1 = b.receive(); Frame f2 = b.receive(); Frame f3 = b.receive(); Frame f4 = b.receive()) {
            assertEquals(List.of(1, 2, 3, 4), List.of(f1.header().msgId(), f2.header().msgId(),
                    f3.header().msgId(), f4.header().msgId()));
            assertEquals(2, f1.fds().count());
            assertEquals(0, f2.fds().count());
            assertEquals(1, f3.fds().count());
            assertEquals(0, f4.fds().count());
            assertArrayEquals(filled(24, 2).array(), f2.payloadBytes());
            // Each received fd is the eventfd sent with that message: signal it, read it on the sender's copy.
            try (EventFd r0 = EventFd.wrap(f1.fds().take(0)); EventFd r1 = EventFd.wrap(f1.fds().take(1));
                    EventFd r3 = EventFd.wrap(f3.fds().take(0))) {
                r0.add(10);
                r1.add(11);
                r3.add(30);
            }
            assertEquals(OptionalLong.of(10), events.get(0).await(Duration.ofSeconds(1)));
            assertEquals(OptionalLong.of(11), events.get(1).await(Duration.ofSeconds(1)));
            assertEquals(OptionalLong.of(30), events.get(2).await(Duration.ofSeconds(1)));
        }
    }

    @Test
    void untakenFdsAreClosedWithTheFrame() throws Exception {
        int[] fds = eventFds(3);
        int before = Fds.openCount();
        a.send(command(1, 8, 0), ByteBuffer.allocate(0), fds);
        Frame f = b.receive();
        assertEquals(before + 3, Fds.openCount());
        OwnedFd kept = f.fds().take(1);
        f.close();
        assertEquals(before + 1, Fds.openCount());
        assertThrows(IllegalStateException.class, () -> f.fds().take(1));
        kept.close();
        assertEquals(before, Fds.openCount());
    }

    @Test
    void tooManyFdsIsRefusedAloneAndTheStreamStaysInSync() throws Exception {
        int[] fds = eventFds(LIMITS.maxMsgFds() + 1);
        int before = Fds.openCount();
        a.send(command(7, 8, 10), filled(10, 7), fds);
        a.send(command(8, 9, 2), filled(2, 8));
        TooManyFdsException e = assertThrows(TooManyFdsException.class, b::receive);
        assertEquals(7, e.header().msgId());
        assertEquals(LIMITS.maxMsgFds() + 1, e.received());
        assertEquals(before, Fds.openCount(), "every fd of the refused message is closed");
        try (Frame next = b.receive()) {
            assertEquals(8, next.header().msgId());
            assertArrayEquals(filled(2, 8).array(), next.payloadBytes());
        }
    }

    @Test
    void moreFdsThanJunixsocketsControlBufferAreStillAllSeenAndClosed() throws Exception {
        int[] fds = eventFds(100);
        int before = Fds.openCount();
        a.send(command(1, 8, 0), ByteBuffer.allocate(0), fds);
        a.send(command(2, 8, 0), ByteBuffer.allocate(0));
        TooManyFdsException e = assertThrows(TooManyFdsException.class, b::receive);
        assertEquals(100, e.received());
        assertEquals(before, Fds.openCount());
        try (Frame next = b.receive()) {
            assertEquals(2, next.header().msgId());
        }
    }

    @Test
    void oversizeHeaderIsAFramingErrorAndItsFdsAreClosed() throws Exception {
        int[] fds = eventFds(1);
        int before = Fds.openCount();
        a.sendRaw(header(1, 9, LIMITS.maxMessageSize() + 1, 0), fds);
        FramingException e = assertThrows(FramingException.class, b::receive);
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        assertEquals(before, Fds.openCount());
    }

    @Test
    void headerAtTheMaximumSizeIsAccepted() throws Exception {
        int payload = (int) LIMITS.maxMessageSize() - 16;
        a.send(command(1, 10, payload), filled(payload, 0x33));
        try (Frame f = b.receive()) {
            assertEquals(payload, f.payload().remaining());
            assertEquals(0x33, f.payload().get(payload - 1));
        }
    }

    @Test
    void undersizeHeaderIsAFramingError() throws Exception {
        a.sendRaw(header(1, 9, 15, 0));
        assertThrows(FramingException.class, b::receive);
    }

    @Test
    void endOfStreamInTheMiddleOfTheHeaderClosesItsFds() throws Exception {
        int[] fds = eventFds(2);
        int before = Fds.openCount();
        a.sendRaw(new byte[10], fds);
        a.shutdownOutput();
        assertThrows(EOFException.class, b::receive);
        assertEquals(before, Fds.openCount());
    }

    @Test
    void endOfStreamInTheMiddleOfThePayloadClosesItsFds() throws Exception {
        int[] fds = eventFds(1);
        int before = Fds.openCount();
        a.sendRaw(concat(header(1, 10, 100, 0), new byte[20]), fds);
        a.shutdownOutput();
        assertThrows(EOFException.class, b::receive);
        assertEquals(before, Fds.openCount());
    }

    @Test
    void headerSplitOverTwoWritesIsReassembledWithItsFds() throws Exception {
        int[] fds = eventFds(1);
        byte[] msg = concat(header(5, 8, 20, 0), new byte[] {1, 2, 3, 4});
        a.sendRaw(java.util.Arrays.copyOf(msg, 7), fds);
        a.sendRaw(java.util.Arrays.copyOfRange(msg, 7, msg.length));
        try (Frame f = b.receive()) {
            assertEquals(5, f.header().msgId());
            assertEquals(1, f.fds().count());
            assertArrayEquals(new byte[] {1, 2, 3, 4}, f.payloadBytes());
        }
    }

    @Test
    void cleanEndOfStreamOnABoundaryIsNull() throws Exception {
        a.send(command(1, 13, 0), ByteBuffer.allocate(0));
        a.shutdownOutput();
        try (Frame f = b.receive()) {
            assertEquals(13, f.header().command());
        }
        assertNull(b.receive());
    }

    @Test
    void concurrentSendersNeverInterleave() throws Exception {
        int threads = 4;
        int each = 300;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> sends = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                sends.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        int len = 1 + (i * 37 % 2000);
                        a.send(command(id, 10, len), filled(len, id + 1));
                    }
                    return null;
                }));
            }
            int[] counts = new int[threads];
            for (int n = 0; n < threads * each; n++) {
                try (Frame f = b.receive()) {
                    byte[] p = f.payloadBytes();
                    int id = f.header().msgId();
                    for (byte x : p) {
                        assertEquals(id + 1, x, "payload bytes of one sender only");
                    }
                    counts[id]++;
                }
            }
            for (Future<?> s : sends) {
                s.get();
            }
            assertArrayEquals(new int[] {each, each, each, each}, counts);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeWakesABlockedReceiverAndLaterCallsFail() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            started.countDown();
            try {
                b.receive();
            } catch (Exception ignored) {
                // either outcome (null or an exception) ends the wait
            }
        });
        t.start();
        started.await();
        Thread.sleep(50);
        b.close();
        t.join(2000);
        assertFalse(t.isAlive());
        assertFalse(b.isOpen());
        assertThrows(IOException.class, () -> b.send(command(1, 1, 0), ByteBuffer.allocate(0)));
        assertThrows(IOException.class, b::receive);
    }

    @Test
    void sendRejectsAHeaderThatDisagreesWithThePayload() {
        assertThrows(IllegalArgumentException.class,
                () -> a.send(new Header(1, 1, 20, 0, 0), ByteBuffer.allocate(3)));
    }
}
