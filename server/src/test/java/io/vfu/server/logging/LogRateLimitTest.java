package io.vfu.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vfu.transport.PeerCredentials;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A connect flood must not become a log flood; what is held back is still told. */
class LogRateLimitTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LogRateLimit limit = new LogRateLimit(3, 3_000_000_000L, now::get);

    @Test
    void aBurstPassesThenLinesAreHeldBackAndCountedOnTheNextThatPasses() {
        assertEquals(0, limit.admit("a"));
        assertEquals(0, limit.admit("a"));
        assertEquals(0, limit.admit("a"));
        for (int i = 0; i < 7; i++) {
            assertEquals(-1, limit.admit("a"), "line " + (4 + i) + " of the burst");
        }
        now.addAndGet(999_999_999L);
        assertEquals(-1, limit.admit("a"), "one line comes back per second, not sooner");
        now.addAndGet(1);
        assertEquals(8, limit.admit("a"), "the line that passes reports the 8 held back");
        assertEquals(-1, limit.admit("a"));
    }

    @Test
    void keysAreCountedApartAndAQuietKeyGetsItsWholeBurstBackButNoMore() {
        for (int i = 0; i < 5; i++) {
            limit.admit("a");
        }
        assertEquals(0, limit.admit("b"), "another device or reason has its own budget");
        now.addAndGet(3_600_000_000_000L);
        assertEquals(2, limit.admit("a"));
        assertEquals(0, limit.admit("a"));
        assertEquals(0, limit.admit("a"));
        assertEquals(-1, limit.admit("a"), "an hour of quiet refills the burst of 3, not 3600");
    }

    @Test
    void aBurstBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LogRateLimit(0, 1_000, now::get));
    }

    @Test
    void aFloodOfRefusalsLogsOneBurstPerDeviceAndReason() {
        Logger log = (Logger) LoggerFactory.getLogger(ClientEvents.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        log.addAppender(lines);
        try {
            PeerCredentials peer = new PeerCredentials(4242, 1000, 1000);
            for (int i = 0; i < 500; i++) {
                ClientEvents.refused("flood-dev", peer, LogFields.BUSY, "another client is attached");
            }
            ClientEvents.refused("flood-dev", peer, LogFields.UID_NOT_ALLOWED, "uid 1000 is not allowed");
            ClientEvents.refused("other-dev", peer, LogFields.BUSY, "another client is attached");
            long busy = lines.list.stream().filter(e -> e.getFormattedMessage().startsWith("flood-dev:")
                    && e.getFormattedMessage().contains("refused: busy")).count();
            // Rule: the loop takes far less than the PERIOD / BURST a token needs to come back; allow one.
            assertEquals(ClientEvents.BURST, busy, 1.0, "500 refusals in a burst log at most BURST lines");
            assertEquals(1, lines.list.stream().filter(e -> e.getFormattedMessage().contains("uid_not_allowed"))
                    .count(), "a different reason is not held back by the flood");
            assertEquals(1, lines.list.stream().filter(e -> e.getFormattedMessage().startsWith("other-dev:"))
                    .count(), "another device is not held back by the flood");
        } finally {
            log.detachAppender(lines);
        }
    }
}
