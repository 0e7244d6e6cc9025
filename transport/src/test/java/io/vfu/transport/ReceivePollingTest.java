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
        b.pollBeforeReceiving(ReceivePolling.upTo(MAX, 1), stats);
        int n = 2_000;
        try (EventFd e = EventFd.create()) {
            // The sender paces messages 20 us apart: within the window, so the reader polls for most of them.
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        LockSupport.parkNanos(20_000);
                        if (i % 10 == 0) {
                            a.send(command(i & 0x7FFF, 8, 8), filled(8, i), e.fd().fd());
                        } else {
                            a.send(command(i & 0x7FFF, 8, 8), filled(8, i));
                        }
                    }
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
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
            }
            sender.get(30, TimeUnit.SECONDS);
            assertEquals(OptionalLong.of(n / 10), e.await(Duration.ofSeconds(1)));
        }
        assertTrue(stats.hits() > 0, "some messages were taken while polling: " + stats.hits());
        assertTrue(stats.pollNanos() > 0);
    }

    @Test
    void anIdleClientStopsThePolling() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.upTo(MAX, 1), stats);
        for (int i = 0; i < 20; i++) {
            a.send(command(i, 8, 0), java.nio.ByteBuffer.allocate(0));
            b.receive().close();
        }
        assertTrue(b.pollWindow() > 0, "back-to-back messages open a window");
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
        for (int i = 0; i < 10; i++) {
            a.send(command(i, 8, 0), java.nio.ByteBuffer.allocate(0));
            b.receive().close();
        }
        a.close();
        int before = Fds.openCount();
        assertNull(b.receive(), "end of stream, not a wait");
        assertEquals(before, Fds.openCount(), "the polling receive leaves no fd behind");
    }

    @Test
    void offNeverPolls() throws Exception {
        b.pollBeforeReceiving(ReceivePolling.OFF, stats);
        for (int i = 0; i < 20; i++) {
            a.send(command(i, 8, 0), java.nio.ByteBuffer.allocate(0));
            b.receive().close();
        }
        assertEquals(0, b.pollWindow());
        assertEquals(0, stats.hits() + stats.misses());
    }

    @Test
    void windowsFollowQemusGrowAndResetRule() {
        AdaptivePoll p = new AdaptivePoll(ReceivePolling.upTo(Duration.ofNanos(50_000), 1), stats);
        long[] expected = {4_000, 8_000, 16_000, 32_000, 50_000, 50_000};
        for (long w : expected) {
            p.adapt(10_000); // each message took 10 us to come: within the maximum
            assertEquals(w, p.window());
        }
        p.adapt(50_001);
        assertEquals(0, p.window(), "a gap beyond the maximum resets the window");
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
        assertTrue(ReceivePolling.upTo(MAX).spinners() >= 1);
    }
}
