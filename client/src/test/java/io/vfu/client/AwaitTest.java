package io.vfu.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {

    @Test
    void aConditionThatHoldsReturnsAtOnceAfterOneLook() throws Exception {
        AtomicInteger looks = new AtomicInteger();
        Await.until(Duration.ofMillis(1), () -> looks.incrementAndGet() > 0, () -> "never built");
        assertEquals(1, looks.get());
    }

    @Test
    void aConditionMadeTrueByAnotherThreadEndsTheWait() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.set(true);
        });
        Await.until(Duration.ofSeconds(10), done::get, () -> "the other thread");
        assertTrue(done.get());
    }

    @Test
    void aTimeoutFailsNamingWhatWasAwaitedAfterPollingUntilTheDeadline() {
        AtomicInteger looks = new AtomicInteger();
        long t0 = System.nanoTime();
        AssertionError e = assertThrows(AssertionError.class, () -> Await.until(Duration.ofMillis(100),
                () -> looks.incrementAndGet() < 0, () -> "the counter to go negative, at " + looks.get()));
        assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(100).toNanos(), "gave up before the timeout");
        assertTrue(e.getMessage().contains("waited 100 ms for the counter to go negative, at " + looks.get()),
                e.getMessage());
        // Polled, not checked once: a 5 ms poll over 100 ms looks a handful of times at least.
        assertTrue(looks.get() > 3, "looks " + looks.get());
    }
}
