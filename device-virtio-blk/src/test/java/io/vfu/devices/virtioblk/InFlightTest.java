package io.vfu.devices.virtioblk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The reset fence: a reset waits for the requests read before it, and refuses the ones read before it but late. */
class InFlightTest {

    @Test
    void aFenceWaitsForTheRequestsInFlight() throws Exception {
        InFlight f = new InFlight();
        int gen = f.generation();
        assertTrue(f.enter(gen));
        CountDownLatch fenced = new CountDownLatch(1);
        Thread reset = Thread.ofPlatform().start(() -> {
            f.fence(10_000);
            fenced.countDown();
        });
        assertFalse(fenced.await(200, TimeUnit.MILLISECONDS), "the reset waits while a request is in flight");
        f.exit();
        assertTrue(fenced.await(5, TimeUnit.SECONDS), "and ends when it leaves");
        reset.join();
        assertFalse(f.enter(gen), "a request read before the reset is refused after it");
        assertTrue(f.enter(f.generation()), "one read after it enters");
        f.exit();
        assertEquals(0, f.count());
    }

    @Test
    void aFenceGivesUpAfterItsBound() {
        InFlight f = new InFlight();
        assertTrue(f.enter(f.generation()));
        long t0 = System.nanoTime();
        assertFalse(f.fence(100), "a request that never ends is disowned after the bound");
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(100));
        assertEquals(1, f.count());
    }
}
