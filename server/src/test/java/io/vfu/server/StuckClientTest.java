package io.vfu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.Await;
import io.vfu.protocol.Capabilities;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.protocol.Version;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stop reading, never speak, or come too many at once (issue "Hardening", faults 4 and 5): none of
 * them holds a device or its next client, and another device of the same process is served throughout. Raw
 * transports, so the test controls exactly when a client reads.
 */
class StuckClientTest {

    /** Short bounds so the test is quick; the defaults are 5 s each. */
    private static final ServerLimits LIMITS = ServerLimits.DEFAULT.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1));
    private static final int BAR0 = 0;
    private static final int BAR4 = 4;
    private static final int CONFIG = 7;

    @TempDir
    Path dir;
    Path dev0;
    Path dev1;
    VfuServer server;

    @BeforeEach
    void start() throws Exception {
        dev0 = dir.resolve("dev0.sock");
        dev1 = dir.resolve("dev1.sock");
        ServerConfig config = new ServerConfig(List.of(DeviceSpec.defaultDevice("dev0", dev0),
                DeviceSpec.defaultDevice("dev1", dev1)), List.of(), null);
        server = VfuServer.start(config, Optional.empty(), "127.0.0.1", LIMITS);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A raw client: sends what the test says, reads only when the test says. */
    private static final class Raw implements AutoCloseable {
        final UnixSocketTransport t;
        int nextId;

        Raw(Path socket) throws Exception {
            t = UnixSocketTransport.connect(socket, TransportLimits.DEFAULT);
        }

        void send(Command c, ByteBuffer payload, boolean noReply) throws Exception {
            long flags = Header.TYPE_COMMAND | (noReply ? Header.FLAG_NO_REPLY : 0);
            t.send(new Header(nextId++ & 0x7fff, c.code(), Header.SIZE + (long) payload.remaining(), flags, 0),
                    payload);
        }

        /** The next message, or null at end of stream, within {@code timeout}. */
        Frame next(Duration timeout) throws Exception {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return t.receive();
                } catch (Exception e) {
                    return null; // reset by the server: as good as end of stream here
                }
            }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** VERSION as QEMU sends it; returns the reply's errno (0 for success). */
        long version(Duration timeout) throws Exception {
            send(Command.VERSION, MessageEncoder.payload(new Version.Request(0, 0, Capabilities.DEFAULTS)), false);
            try (Frame f = next(timeout)) {
                assertNotNull(f, "an answer to VERSION, not a silent close");
                assertEquals(Command.VERSION.code(), f.header().command());
                return f.header().error();
            }
        }

        void write32(int region, long offset, int value, boolean noReply) throws Exception {
            ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
            send(Command.REGION_WRITE, MessageEncoder.payload(new RegionWrite.Request(offset, region, data)), noReply);
            if (!noReply) {
                try (Frame f = next(Duration.ofSeconds(5))) {
                    assertEquals(0, f.header().error());
                }
            }
        }

        long read16(int region, long offset) throws Exception {
            send(Command.REGION_READ, MessageEncoder.payload(new RegionRead.Request(offset, region, 2)), false);
            try (Frame f = next(Duration.ofSeconds(5))) {
                assertNotNull(f, "a reply to REGION_READ");
                assertEquals(0, f.header().error());
                return Short.toUnsignedLong(f.payload().order(ByteOrder.LITTLE_ENDIAN).getShort(16));
            }
        }

        @Override
        public void close() {
            t.close();
        }
    }

    /** VERSION and a config read on {@code socket}, as a fresh QEMU would start. */
    private static void served(Path socket) throws Exception {
        try (Raw c = new Raw(socket)) {
            assertEquals(0, c.version(Duration.ofSeconds(5)), "VERSION accepted");
            assertEquals(0x1b5a, c.read16(CONFIG, 0), "vendor id");
        }
    }

    @Test
    void aClientThatStopsReadingLosesItsSessionAndHoldsUpNobody() throws Exception {
        Raw stuck = new Raw(dev0);
        AtomicLong doorbells = new AtomicLong();
        Thread ringer;
        try {
            assertEquals(0, stuck.version(Duration.ofSeconds(5)));
            // IMS entry 0: message address 0xFEE00000, data 0x41, unmasked (device-model/LAYOUT.md, BAR4).
            stuck.write32(BAR4, 0, 0xFEE0_0000, false);
            stuck.write32(BAR4, 4, 0, false);
            stuck.write32(BAR4, 8, 0x41, false);
            stuck.write32(BAR4, 12, 0, false);
            // From here on the client never reads: every doorbell makes the device post a DMA_WRITE to it.
            ringer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = 0; i < 1_000_000; i++) {
                        stuck.write32(BAR0, 0x44, 0, true);
                        doorbells.incrementAndGet();
                    }
                } catch (Exception e) {
                    // the server ended the session: the client's sends fail
                }
            });
            // Wait until the server stopped reading us: it is blocked sending posted writes we never read.
            long seen = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (seen != doorbells.get()) {
                seen = doorbells.get();
                Thread.sleep(200);
                assertTrue(System.nanoTime() < deadline, "the stuck client's sends never stalled");
            }
            assertTrue(seen < 1_000_000, "the client's doorbells stalled before all were sent");

            // A new client on the same device is answered at once (busy), and another device is served.
            long t0 = System.nanoTime();
            try (Raw second = new Raw(dev0)) {
                assertEquals(Errno.EBUSY.code(), second.version(Duration.ofSeconds(3)));
            }
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "EBUSY came promptly");
            served(dev1);

            // The stuck session is dropped after the send bound; the device then takes a new client.
            ringer.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(ringer.isAlive(), "the server dropped the client that stopped reading");
        } finally {
            stuck.close();
        }
        awaitIdle(dev0);
        served(dev0);
        assertTrue(server.registry().scrape().contains("vfu_sessions_send_timeouts_total{device=\"dev0\"} 1.0"),
                "the dropped session is counted");
    }

    @Test
    void aConnectionThatNeverCompletesVersionIsClosed() throws Exception {
        try (Raw silent = new Raw(dev0); Raw oneByte = new Raw(dev1)) {
            oneByte.t.sendRaw(new byte[] {1});
            long t0 = System.nanoTime();
            assertNull(silent.next(Duration.ofSeconds(5)), "a client that sends nothing is closed");
            assertNull(oneByte.next(Duration.ofSeconds(5)), "a client that sends one byte is closed");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4), "within the handshake bound");
        }
        awaitIdle(dev0);
        served(dev0);
        String scrape = server.registry().scrape();
        assertTrue(scrape.contains("vfu_sessions_handshake_timeouts_total{device=\"dev0\"} 1.0"), scrape);
        assertTrue(scrape.contains("vfu_sessions_handshake_timeouts_total{device=\"dev1\"} 1.0"), scrape);
    }

    @Test
    void everyClientBeyondTheAdmissionQueueHearsEbusy() throws Exception {
        try (Raw owner = new Raw(dev0)) {
            assertEquals(0, owner.version(Duration.ofSeconds(5)));
            List<Raw> crowd = new ArrayList<>();
            try {
                for (int i = 0; i < 24; i++) {
                    crowd.add(new Raw(dev0));
                }
                for (Raw r : crowd) {
                    r.send(Command.VERSION, MessageEncoder.payload(new Version.Request(0, 0, Capabilities.DEFAULTS)),
                            false);
                }
                for (Raw r : crowd) {
                    try (Frame f = r.next(Duration.ofSeconds(15))) {
                        assertNotNull(f, "EBUSY, not a silent close");
                        assertEquals(Errno.EBUSY.code(), f.header().error());
                    }
                }
            } finally {
                crowd.forEach(Raw::close);
            }
            assertEquals(0x1b5a, owner.read16(CONFIG, 0), "the owner is served throughout");
        }
    }

    /** Waits until {@code socket}'s device has no session (the previous client's end was processed). */
    private void awaitIdle(Path socket) throws Exception {
        DeviceEndpoint ep = server.endpoints().stream().filter(e -> e.socket().equals(socket)).findFirst()
                .orElseThrow();
        Await.until(Duration.ofSeconds(10), () -> !ep.busy(), () -> "the device " + socket + " to become idle");
    }
}
