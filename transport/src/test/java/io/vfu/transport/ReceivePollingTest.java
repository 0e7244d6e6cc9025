package io.vfu.transport;

import static io.vfu.transport.Messages.command;
import static io.vfu.transport.Messages.filled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.Fds;
import java.io.IOException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Busy-polling before a receive blocks, over real socket pairs: what it delivers, and when it stops. */
class ReceivePollingTest {

    private static final TransportLimits LIMITS = new TransportLimits(4096, 4);
    private static final Duration MAX = Duration.ofNanos(200_000);

    private UnixSocketTransport a;
    private UnixSocketTransport b;
    private final ReceivePollStats stats = new ReceivePollStats();


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
    }

    @Test
    void messagesSentWhileTheReaderPollsArriveWholeWithTheirFdsAndCountAsHits() throws Exception {
        ReceivePolling polling = ReceivePolling.upTo(MAX, 1);
        b.pollBeforeReceiving(polling, stats);
        int n = 2_000;
        try (EventFd e = EventFd.create()) {
            // A request-reply client: each message waits for the reader's answer to the one before; the reader,
            // having answered, polls for the next.
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        if (i > 0) {
                            a.receive().close();
                        }
                        if (i % 10 == 0) {
                            a.send(command(i & 0x7FFF, 8, 8), filled(8, i), e.fd().fd());
                        } else {
                            a.send(command(i & 0x7FFF, 8, 8), filled(8, i));
                        }
                    }
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });
            for (int i = 0; i < n; i++) {
                try (Frame f = b.receive()) {
                    assertEquals(i & 0x7FFF, f.header().msgId());
                    assertArrayEquals(filled(8, i).array(), f.payloadBytes());
                    assertEquals(i % 10 == 0 ? 1 : 0, f.fds().count(), "message " + i + "'s fds");
                    if (i % 10 == 0) {
                        // The fd that came is the sender's eventfd: a signal on it reaches the sender's copy.
                        try (EventFd got = EventFd.wrap(f.fds().take(0))) {
                            got.add(1);
                        }
                    }
                }
                if (i < n - 1) {
                    answer(i);
                }
            }
            sender.get(30, TimeUnit.SECONDS);
            assertEquals(OptionalLong.of(n / 10), e.await(Duration.ofSeconds(1)));
        }
        assertTrue(stats.hits() > 0, "some messages were taken while polling: " + stats.hits());
        assertTrue(stats.pollNanos() > 0);
        assertTrue(polling.tryStartSpin(), "every poll gave its place back: polling goes on for other readers");
        polling.endSpin();
    }

    /** The reader's answer to message {@code i}: a reply, read by the client before it sends again. */
    private void answer(int i) throws IOException {
        b.send(new io.vfu.protocol.Header(i & 0x7FFF, 8, io.vfu.protocol.Header.SIZE, io.vfu.protocol.Header.TYPE_REPLY,
                0), java.nio.ByteBuffer.allocate(0));
    }

    /** {@code n} request-reply rounds, the client sending each request as soon as it has the answer. */
    private void roundTrips(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            a.send(command(i, 8, 0), java.nio.ByteBuffer.allocate(0));
            b.receive().close();
            answer(i);
            a.receive().close();
        }
    }

    @Test
    void aStreamOfPostedMessagesIsReadWithoutPolling() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.upTo(MAX, 1), stats);
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < 2_000; i++) {
                    LockSupport.parkNanos(5_000);
                    a.send(command(i & 0x7FFF, 8, 8), filled(8, i));
                }
            } catch (IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        });
        for (int i = 0; i < 2_000; i++) {
            try (Frame f = b.receive()) {
                assertEquals(i & 0x7FFF, f.header().msgId());
            }
        }
        sender.get(30, TimeUnit.SECONDS);
        // Gaps this short open a window (a reader that had answered would poll for most of them), but nothing
        // here was owed an answer.
        assertEquals(0, stats.hits() + stats.misses(), "the reader slept and read what had come in batches");
    }

    @Test
    void anIdleClientStopsThePolling() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.upTo(MAX, 1), stats);
        roundTrips(20);
        assertTrue(b.pollWindow() > 0, "back-to-back messages open a window");
        answer(20);
        CompletableFuture<Void> late = CompletableFuture.runAsync(() -> {
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            try {
                a.send(command(99, 8, 0), java.nio.ByteBuffer.allocate(0));
            } catch (IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        });
        long missesBefore = stats.misses();
        try (Frame f = b.receive()) {
            assertEquals(99, f.header().msgId());
        }
        late.get(5, TimeUnit.SECONDS);
        assertEquals(0, b.pollWindow(), "a gap beyond the maximum closes the window: an idle client costs no CPU");
        assertTrue(stats.misses() - missesBefore <= 1, "one window ran out at most, then the reader slept");
    }

    @Test
    void endOfStreamEndsAPollingReceive() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.upTo(ReceivePolling.MAX, 1), stats);
        roundTrips(10);
        answer(10);
        a.receive().close(); // read, so the close is a clean end of stream (unread data would reset it)
        assertTrue(b.pollWindow() > 0, "the reader polls before its next read");
        long misses = stats.misses();
        a.close();
        int before = Fds.openCount();
        assertNull(b.receive(), "end of stream, not a wait");
        assertEquals(before, Fds.openCount(), "the polling receive leaves no fd behind");
        assertEquals(misses, stats.misses(), "the poll itself saw the end of stream; it did not wait out its window");
    }

    @Test
    void offNeverPolls() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.OFF, stats);
        roundTrips(20);
        assertEquals(0, b.pollWindow());
        assertEquals(0, stats.hits() + stats.misses());
    }

    @Test
    void theWindowCoversTwiceTheLastGapUpToTheMaximumAndClosesWhenTheClientIdles() {
        PollWindow w = new PollWindow(50_000);
        assertFalse(w.wantsPoll(), "no window before the first message");
        w.slept(1_000, false);
        assertEquals(PollWindow.START_NANOS, w.window(), "never below 4 us");
        w.slept(10_000, false);
        assertEquals(20_000, w.window(), "a message that outlasted the window: twice its gap");
        w.slept(5_000, false);
        assertEquals(20_000, w.window(), "a message inside the window leaves it");
        w.slept(40_000, false);
        assertEquals(50_000, w.window(), "at most the maximum");
        w.slept(50_001, false);
        assertEquals(0, w.window(), "a gap beyond the maximum closes the window: an idle client costs nothing");
        assertFalse(w.wantsPoll());
    }

    @Test
    void pollingPausesWhenMostWindowsRunOutLongerEachTimeATryFails() {
        PollWindow w = new PollWindow(50_000);
        w.slept(10_000, false);
        for (int i = 0; i < 20; i++) {
            w.polled(true); // a run of caught messages
        }
        assertEquals(PollWindow.MAX_CREDIT, w.credit(), "credit is capped, so a change shows soon");
        // One message caught for two that were not (a client slowed down by the spinning itself): polling
        // stops after a few of them.
        for (int i = 0; i < 6 && w.wantsPoll(); i++) {
            w.polled(i % 3 == 2);
        }
        assertFalse(w.wantsPoll(), "one hit in three does not pay for the spinning");
        int pause = PollWindow.MIN_BACKOFF;
        for (int round = 0; round < 3; round++) {
            assertEquals(pause, w.pause());
            for (int i = 0; i < pause - 1; i++) {
                w.slept(1_000, false);
                assertFalse(w.wantsPoll(), "gaps seen while sleeping do not bring polling back early");
            }
            w.slept(1_000, false);
            assertTrue(w.wantsPoll(), "after the pause, one try");
            w.polled(false);
            pause *= 2;
        }
        assertEquals(pause, w.pause(), "each failed try doubles the pause");
        for (int i = 0; i < pause; i++) {
            w.slept(1_000, false);
        }
        for (int i = 0; i < PollWindow.MAX_CREDIT; i++) {
            assertTrue(w.wantsPoll());
            w.polled(true); // the client has cores of its own again
        }
        for (int i = 0; i < 3; i++) {
            w.polled(false);
        }
        assertEquals(PollWindow.MIN_BACKOFF, w.pause(), "polling that paid resets the pause");
    }

    @Test
    void atMostTheAllowedReadersPollAtOnce() {
        ReceivePolling one = ReceivePolling.upTo(MAX, 1);
        assertTrue(one.tryStartSpin());
        assertFalse(one.tryStartSpin(), "the second reader sleeps at once instead of polling");
        one.endSpin();
        assertTrue(one.tryStartSpin());
        one.endSpin();
    }

    @Test
    void settingsAreChecked() {
        assertSame(ReceivePolling.OFF, ReceivePolling.upTo(Duration.ZERO, 1));
        assertThrows(IllegalArgumentException.class, () -> ReceivePolling.upTo(Duration.ofMillis(2), 1));
        assertThrows(IllegalArgumentException.class, () -> ReceivePolling.upTo(Duration.ofNanos(-1_000), 1));
        assertThrows(IllegalArgumentException.class, () -> ReceivePolling.upTo(MAX, 0));
        assertEquals(ReceivePolling.OFF, ReceivePolling.forCpus(MAX, 1), "one CPU: a spinning reader would hold "
                + "up its own client");
        assertEquals(1, ReceivePolling.forCpus(MAX, 2).spinners());
        assertEquals(4, ReceivePolling.forCpus(MAX, 9).spinners(), "at most half the CPUs poll");
    }
}
