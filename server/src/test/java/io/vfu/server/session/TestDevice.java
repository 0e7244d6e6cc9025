package io.vfu.server.session;

import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.Command;
import io.vfu.protocol.Header;
import io.vfu.protocol.Limits;
import io.vfu.protocol.Message;
import io.vfu.protocol.MessageDecoder;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.transport.Frame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** A typed client for tests: VERSION, region reads/writes and SET_IRQS over a real socket. */
final class TestDevice implements AutoCloseable {

    static final String QEMU_CAPS = "{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,\"pgsizes\":4096,"
            + "\"max_dma_maps\":65535,\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456},"
            + "\"write_multiple\":true}";

    static final int BAR0 = 0;
    static final int BAR2 = 2;
    static final int BAR4 = 4;
    static final int CONFIG = 7;
    static final int MSIX = 2;

    final VfioUserClient client;

    private TestDevice(VfioUserClient client) {
        this.client = client;
    }

    /** Connects and negotiates as QEMU 11 does. */
    static TestDevice open(Path socket, DmaHandler dma) throws Exception {
        TestDevice d = new TestDevice(VfioUserClient.connect(socket, dma));
        try (Frame f = d.client.version(0, 0, QEMU_CAPS).get()) {
            if (!f.header().isReply() || f.header().isError()) {
                throw new IllegalStateException("VERSION failed: " + f.header());
            }
        }
        return d;
    }

    static ByteBuffer payload(Message m) {
        return MessageEncoder.payload(m);
    }

    /** Sends {@code request} and decodes the reply (an error reply throws ErrorReplyException). */
    Message call(Message.Request request, int... fds) throws Exception {
        try (Frame f = client.call(request.command(), payload(request), fds)) {
            Header h = f.header();
            return MessageDecoder.decode(h, f.payload(), f.fds().count(), Limits.of(1 << 20, 16));
        }
    }

    long read(int region, long offset, int width) throws Exception {
        RegionRead.Reply r = (RegionRead.Reply) call(new RegionRead.Request(offset, region, width));
        ByteBuffer d = r.data().order(ByteOrder.LITTLE_ENDIAN);
        return switch (width) {
            case 1 -> Byte.toUnsignedLong(d.get(0));
            case 2 -> Short.toUnsignedLong(d.getShort(0));
            case 4 -> Integer.toUnsignedLong(d.getInt(0));
            default -> d.getLong(0);
        };
    }

    void write(int region, long offset, int width, long value) throws Exception {
        call(new RegionWrite.Request(offset, region, le(width, value)));
    }

    void post(int region, long offset, int width, long value) throws Exception {
        client.post(Command.REGION_WRITE, payload(new RegionWrite.Request(offset, region, le(width, value))));
    }

    static ByteBuffer le(int width, long value) {
        ByteBuffer b = ByteBuffer.allocate(width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < width; i++) {
            b.put((byte) (value >>> (8 * i)));
        }
        return b.flip();
    }

    /** Sets MSI-X Enable in Message Control (capability at 0x50, see device-model/LAYOUT.md). */
    void enableMsix() throws Exception {
        long mc = read(CONFIG, 0x52, 2);
        write(CONFIG, 0x52, 2, mc | 0x8000);
    }

    /** Sets Memory Space and Bus Master Enable in the Command register. */
    void enableBusMaster() throws Exception {
        long cmd = read(CONFIG, 0x04, 2);
        write(CONFIG, 0x04, 2, cmd | 0x6);
    }

    /** SET_IRQS(MSIX, EVENTFD|TRIGGER, start=vector, count=1) with one eventfd: the dynamic append. */
    void assignVector(int vector, int eventFd) throws Exception {
        call(DeviceSetIrqs.Request.of(DeviceSetIrqs.DATA_EVENTFD | DeviceSetIrqs.ACTION_TRIGGER, MSIX, vector, 1),
                eventFd);
    }

    @Override
    public void close() {
        client.close();
    }
}
