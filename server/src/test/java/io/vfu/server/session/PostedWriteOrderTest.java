package io.vfu.server.session;

import static io.vfu.server.session.TestDevice.BAR0;
import static io.vfu.server.session.TestDevice.BAR4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.client.DmaHandler;
import io.vfu.protocol.Command;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.protocol.Version;
import io.vfu.protocol.Capabilities;
import io.vfu.server.VfuServer;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device host's queue of posted writes, seen from the client's socket: a reply never overtakes a posted
 * write raised before it, a burst beyond the queue's capacity arrives whole and in order, and a DMA completion
 * record lands before the interrupt that announces it.
 */
class PostedWriteOrderTest {

    @TempDir
    Path dir;
    Path socket;
    VfuServer server;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("dev.sock");
        server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static ByteBuffer le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    }

    /** Sends a command on a raw transport. */
    private static void send(UnixSocketTransport t, int id, Command c, ByteBuffer payload, boolean noReply)
            throws Exception {
        t.send(new Header(id, c.code(), Header.SIZE + (long) payload.remaining(),
                Header.TYPE_COMMAND | (noReply ? Header.FLAG_NO_REPLY : 0), 0), payload);
    }

    @Test
    void aReplyNeverOvertakesPostedWritesRaisedBeforeItEvenPastTheQueuesCapacity() throws Exception {
        int doorbells = 600; // more than the queue's 256: the overflow is sent from where it was raised
        try (UnixSocketTransport t = UnixSocketTransport.connect(socket, TransportLimits.DEFAULT)) {
            send(t, 0, Command.VERSION, MessageEncoder.payload(new Version.Request(0, 0, Capabilities.DEFAULTS)),
                    false);
            try (Frame f = t.receive()) {
                assertEquals(0, f.header().error());
            }
            // Rule of every real client: read while sending (a client that does not would stall both ends and
            // lose its session to the send bound). The frames are checked in arrival order below.
            java.util.concurrent.LinkedBlockingQueue<Frame> arrived = new java.util.concurrent.LinkedBlockingQueue<>();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    Frame f;
                    while ((f = t.receive()) != null) {
                        arrived.add(f);
                    }
                } catch (Exception e) {
                    // the test closes the transport at its end
                }
            });
            int id = 1;
            // IMS entry 3: message 0xFEE00000 / data 0x43, unmasked (LAYOUT.md, BAR4).
            for (int[] w : new int[][] {{0, 0xFEE0_0000}, {4, 0}, {8, 0x43}, {12, 0}}) {
                send(t, id++, Command.REGION_WRITE, MessageEncoder.payload(
                        new RegionWrite.Request(16 * 3 + w[0], BAR4, le32(w[1]))), true);
            }
            for (int i = 0; i < doorbells; i++) {
                send(t, id++, Command.REGION_WRITE, MessageEncoder.payload(
                        new RegionWrite.Request(0x44, BAR0, le32(3))), true); // posted IMS doorbell
            }
            send(t, 0x7000, Command.REGION_READ, MessageEncoder.payload(new RegionRead.Request(0x4000 + 12, BAR0, 4)),
                    false); // IMS_DELIVERED[3]
            int writes = 0;
            while (true) {
                try (Frame f = arrived.poll(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    assertTrue(f != null, "the read's reply came within 10 s (" + writes + " writes before it)");
                    Header h = f.header();
                    if (h.isReply()) {
                        assertEquals(0x7000, h.msgId(), "the read's reply");
                        assertEquals(doorbells, writes, "every posted write raised before the read came first");
                        assertEquals(doorbells, f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(16));
                        break;
                    }
                    assertEquals(Command.DMA_WRITE.code(), h.command());
                    assertTrue(h.noReply(), "a posted write asks for no reply");
                    ByteBuffer p = f.payload().order(ByteOrder.LITTLE_ENDIAN);
                    assertEquals(0xFEE0_0000L, p.getLong(0));
                    assertEquals(4, p.getLong(8));
                    assertEquals(0x43, p.getInt(16));
                    writes++;
                }
            }
            t.close();
            reader.join(5_000);
        }
    }

    @Test
    void aDmaCompletionRecordLandsBeforeTheInterruptThatAnnouncesIt() throws Exception {
        long ram = 0x100000;
        byte[] bytes = new byte[0x20000];
        ByteBuffer mem = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long src = ram + 0x1000;
        long dst = ram + 0x8000;
        long record = ram + 0x10000;
        // Descriptor 0 (LAYOUT.md): copy 64 bytes, record at RECORD, interrupt IMS entry 5.
        mem.putLong(0, src).putLong(8, dst).putInt(16, 64).putInt(20, 2 | 5 << 16).putLong(24, record);
        List<Long> writesSeen = Collections.synchronizedList(new ArrayList<>());
        DmaHandler client = new DmaHandler() {
            @Override
            public ByteBuffer read(long address, long count) {
                return ByteBuffer.wrap(bytes, (int) (address - ram), (int) count).slice();
            }

            @Override
            public void write(long address, ByteBuffer data) {
                writesSeen.add(address);
                if (address >= ram && address < ram + bytes.length) {
                    data.get(data.position(), bytes, (int) (address - ram), data.remaining());
                }
            }
        };
        try (TestDevice d = TestDevice.open(socket, client)) {
            d.call(new io.vfu.protocol.DmaMap.Request(32, io.vfu.protocol.DmaMap.FLAG_READ
                    | io.vfu.protocol.DmaMap.FLAG_WRITE, 0, ram, bytes.length));
            d.enableBusMaster();
            d.write(BAR4, 16 * 5, 4, 0xFEE0_3000L);
            d.write(BAR4, 16 * 5 + 8, 4, 0x45);
            d.write(BAR4, 16 * 5 + 12, 4, 0);
            d.write(BAR0, 0x100, 4, ram);
            d.write(BAR0, 0x108, 4, 4);
            d.write(BAR0, 0x10C, 4, 1);
            d.write(BAR0, 0x114, 4, 1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!writesSeen.contains(0xFEE0_3000L)) {
                assertTrue(System.nanoTime() < deadline, "the completion interrupt never came: " + writesSeen);
                Thread.sleep(5);
            }
            assertTrue(writesSeen.indexOf(record) >= 0 && writesSeen.indexOf(record) < writesSeen.indexOf(0xFEE0_3000L),
                    "the record (0x" + Long.toHexString(record) + ") is written before the interrupt: " + writesSeen);
            assertEquals(1, mem.getInt((int) (record - ram)), "the record says success");
        }
    }
}
