package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.client.DmaHandler;
import io.vfu.server.VfuServer;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.EventFd;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The steady-state paths under sustained traffic on the real server over a real socket: 10,000 rounds of
 * config reads, BAR0 writes with a reply, posted BAR0 writes and posted REGION_WRITE_MULTIs, each read seeing
 * the writes before it; and 10,000 rounds of interleaved MSI-X (eventfd) and IMS (posted DMA_WRITE) doorbells,
 * none lost. What these paths allocate is measured by the bench ({@code bin/vfu-bench},
 * {@code server_alloc_bytes_per_*}, BENCH.md), not here: a per-message byte count in a unit test depends on
 * what the JIT has compiled by then.
 */
class SustainedTrafficTest {

    private static final int ROUNDS = 10_000;

    @TempDir
    Path dir;

    @Test
    void readsSeeTheWritesBeforeThemUnderSustainedTraffic() throws Exception {
        Path socket = dir.resolve("dev0.sock");
        try (VfuServer server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            exercise(d, ROUNDS);
            assertEquals(0x2222_1111L, d.read(TestDevice.BAR0, 0x88, 4) | d.read(TestDevice.BAR0, 0x8C, 2) << 16,
                    "the coalesced writes landed");
            assertEquals(ROUNDS - 1, d.read(TestDevice.BAR0, 0x80, 4), "the last write with a reply landed");
        }
    }

    @Test
    void noInterruptByEventfdOrByPostedWriteIsLostUnderSustainedDoorbells() throws Exception {
        Path socket = dir.resolve("dev1.sock");
        java.util.concurrent.atomic.AtomicLong imsWrites = new java.util.concurrent.atomic.AtomicLong();
        DmaHandler dma = new DmaHandler() {
            @Override
            public java.nio.ByteBuffer read(long address, long count) {
                throw new AssertionError("no reads expected");
            }

            @Override
            public void write(long address, java.nio.ByteBuffer data) {
                imsWrites.incrementAndGet();
            }
        };
        try (VfuServer server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
             TestDevice d = TestDevice.open(socket, dma);
             EventFd vector0 = EventFd.create()) {
            d.enableBusMaster();
            d.enableMsix();
            d.assignVector(0, vector0.fd().fd());
            // IMS entry 3: address, data, unmasked (device-model/LAYOUT.md "BAR4: IMS store").
            d.write(TestDevice.BAR4, 16 * 3, 4, 0xFEE0_0000L);
            d.write(TestDevice.BAR4, 16 * 3 + 4, 4, 0);
            d.write(TestDevice.BAR4, 16 * 3 + 8, 4, 0x41);
            d.write(TestDevice.BAR4, 16 * 3 + 12, 4, 0);
            fire(d, ROUNDS);
            // Every doorbell delivered: the device's own counters (BAR0 0x2000 MSI-X vector 0, 0x4000+4e IMS).
            assertEquals(ROUNDS, d.read(TestDevice.BAR0, 0x2000, 4));
            assertEquals(ROUNDS, d.read(TestDevice.BAR0, 0x4000 + 4 * 3, 4));
            assertEquals(ROUNDS, vector0.read(), "every MSI-X doorbell signalled the eventfd");
            // Rule: a reply never overtakes a posted write raised before it (PostedWrites), and the client runs
            // its DMA handler on the reader thread in arrival order, so once the barrier read has returned every
            // DMA_WRITE has been handled.
            assertEquals(ROUNDS, imsWrites.get(), "every IMS doorbell reached the client as a DMA_WRITE, once");
        }
    }

    /** Per round: a posted MSI-X doorbell for vector 0 and a posted IMS doorbell for entry 3, then a barrier. */
    private static void fire(TestDevice d, int rounds) throws Exception {
        for (int i = 0; i < rounds; i++) {
            d.post(TestDevice.BAR0, 0x40, 4, 0);
            d.post(TestDevice.BAR0, 0x44, 4, 3);
            if (i % 100 == 99) {
                d.read(TestDevice.BAR0, 0, 4);
            }
        }
        d.read(TestDevice.BAR0, 0, 4);
    }

    /**
     * Per round: a config read, a BAR0 write with reply, a posted BAR0 write, a posted REGION_WRITE_MULTI and
     * a BAR0 read.
     */
    private static void exercise(TestDevice d, int rounds) throws Exception {
        java.nio.ByteBuffer multi = TestDevice.payload(new io.vfu.protocol.RegionWriteMulti.Request(java.util.List.of(
                new io.vfu.protocol.RegionWriteMulti.Write(0x88, TestDevice.BAR0, TestDevice.le(4, 0x1111)),
                new io.vfu.protocol.RegionWriteMulti.Write(0x8C, TestDevice.BAR0, TestDevice.le(2, 0x2222)))));
        for (int i = 0; i < rounds; i++) {
            assertEquals(0x0001_1B5AL, d.read(TestDevice.CONFIG, 0, 4));
            d.write(TestDevice.BAR0, 0x80, 4, i);
            d.post(TestDevice.BAR0, 0x84, 4, i);
            // QEMU coalesces posted writes into REGION_WRITE_MULTI under load.
            d.client.post(io.vfu.protocol.Command.REGION_WRITE_MULTI, multi);
            // The read is the barrier: it sees the writes before it (commands run in order, spec "Command
            // Concurrency").
            assertEquals(i, d.read(TestDevice.BAR0, 0x84, 4));
        }
    }
}
