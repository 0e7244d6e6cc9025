package io.vfu.it;

import static io.vfu.it.DeviceLayout.*;
import static io.vfu.it.WireMessages.*;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A negotiated client that makes its device send to it (eight IMS entries unmasked at an MSI address, so each
 * IMS doorbell becomes a posted DMA_WRITE to this client), then stops reading its socket and rings those
 * doorbells from a thread of its own, {@link #FLOOD} posted writes' worth: far more than a socket buffer holds,
 * so a server that sends to it synchronously blocks. The connection lives until {@link #close()} or its
 * deadline, whichever is first.
 */
final class StoppedReader implements AutoCloseable {

    /** Doorbells rung: each becomes a 36-byte DMA_WRITE, 20,000 of them ~700 KB against a ~200 KB buffer. */
    static final int FLOOD = 20_000;
    private static final Duration REPLY = Duration.ofSeconds(10);

    private final RawConnection connection;
    private final AtomicLong rung = new AtomicLong();
    private volatile Thread ringer;
    private volatile String stoppedBy = "";

    private StoppedReader(RawConnection connection) {
        this.connection = connection;
    }

    /**
     * Connects and negotiates, retrying every 100 ms while refused with EBUSY, until {@code deadlineNanos};
     * null if never admitted.
     */
    static StoppedReader admit(Path socket, Watchdog watchdog, long deadlineNanos, long seed)
            throws IOException, InterruptedException {
        while (System.nanoTime() - deadlineNanos < 0) {
            RawConnection c;
            try {
                c = RawConnection.connect(socket, watchdog, deadlineNanos + REPLY.plusSeconds(30).toNanos());
            } catch (IOException e) {
                return null;
            }
            if (c.negotiate(1, REPLY, seed) == RawConnection.Answer.OK) {
                StoppedReader s = new StoppedReader(c);
                s.setUp();
                return s;
            }
            c.close();
            Thread.sleep(100); // poll interval between admission attempts
        }
        return null;
    }

    private void setUp() throws IOException, InterruptedException {
        int id = 10;
        for (int e = 0; e < 8; e++) {
            byte[] entry = le(16).putLong(MSI_ADDRESS).putInt(0x40 + e).putInt(0).array(); // control 0: unmasked
            connection.send(message(id, REGION_WRITE, 0, regionWrite(BAR4, (long) IMS_ENTRY * e, entry)));
            connection.awaitReply(id++, REPLY);
        }
        connection.stopReading();
    }

    /**
     * Starts ringing, then waits until all {@link #FLOOD} doorbells are sent or sending has stalled for a second
     * (the sockets are full), at most {@code timeout}.
     */
    void flood(Duration timeout) throws InterruptedException {
        ringer = Thread.ofPlatform().daemon().name("fuzz-stopped-reader").start(() -> {
            try {
                for (int i = 0; i < FLOOD; i++) {
                    connection.send(message(0x8000 | (i & 0x7FFF), REGION_WRITE, NO_REPLY,
                            regionWrite32(BAR0, DOORBELL_IMS, i & 7)));
                    rung.incrementAndGet();
                }
                stoppedBy = "all sent";
            } catch (IOException e) {
                stoppedBy = "send failed: " + e.getMessage();
            }
        });
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        long lastChange = System.nanoTime();
        while (ringer.isAlive() && System.nanoTime() - deadline < 0
                && System.nanoTime() - lastChange < 1_000_000_000L) {
            Thread.sleep(50); // poll interval
            long now = rung.get();
            if (now != last) {
                last = now;
                lastChange = System.nanoTime();
            }
        }
    }

    /** For messages: how far the flood got. */
    String describe() {
        return rung.get() + " of " + FLOOD + " doorbells sent" + (stoppedBy.isEmpty() ? ", sending blocked" : ", "
                + stoppedBy);
    }

    @Override
    public void close() throws InterruptedException {
        connection.close(); // wakes the ringer if its send is blocked
        Thread t = ringer;
        if (t != null) {
            t.join(Duration.ofSeconds(10));
        }
    }
}
