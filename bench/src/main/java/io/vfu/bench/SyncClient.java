package io.vfu.bench;

import io.vfu.protocol.Command;
import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.Header;
import io.vfu.client.VfioUserClient;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The benchmark's client: synchronous, single-threaded, straight on the transport (send, then receive on the
 * same thread), so the client adds no thread hand-off to a round trip, as QEMU's vCPU thread waits on its own
 * reply. {@link VfioUserClient} is the general client; this one exists to keep the client cost minimal.
 */
final class SyncClient implements AutoCloseable {

    static final int REGION_BAR0 = 0;
    static final int REGION_BAR4 = 4;
    static final int REGION_CONFIG = 7;
    static final int IRQ_MSIX = 2;

    private final UnixSocketTransport transport;
    private final ByteBuffer readPayload = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer writePayload = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer multiPayload = ByteBuffer.allocate(8 + 2 * 24).order(ByteOrder.LITTLE_ENDIAN);
    private int nextId;

    private SyncClient(UnixSocketTransport transport) {
        this.transport = transport;
    }

    /** Connects and negotiates VERSION 0.0 (the server requires it first). */
    static SyncClient connect(Path socket) throws IOException {
        SyncClient c = new SyncClient(UnixSocketTransport.connect(socket, TransportLimits.DEFAULT));
        try (Frame reply = c.call(Command.VERSION,
                VfioUserClient.versionPayload(0, 0, "{\"capabilities\":{\"max_msg_fds\":16}}"))) {
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Sends a command and receives its reply; an error reply becomes an IOException. */
    Frame call(Command command, ByteBuffer payload, int... fds) throws IOException {
        int id = send(command, payload, false, fds);
        Frame reply = receive();
        if (reply.header().msgId() != id) {
            reply.close();
            throw new IOException("reply msg_id " + reply.header().msgId() + ", expected " + id);
        }
        return reply;
    }

    /** Sends a command; {@code noReply} sets the No_reply flag. Returns its msg_id. */
    int send(Command command, ByteBuffer payload, boolean noReply, int... fds) throws IOException {
        int id = nextId;
        nextId = (nextId + 1) & 0xFFFF;
        transport.send(Header.command(id, command, Header.SIZE + payload.remaining(), noReply), payload, fds);
        return id;
    }

    /** Receives one reply; an error reply becomes an IOException. */
    Frame receive() throws IOException {
        Frame f;
        try {
            f = transport.receive();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
        if (f.header().isError()) {
            f.close();
            throw new ErrorReply(f.header().error(), f.header().command());
        }
        return f;
    }

    /** The REGION_READ payload (spec: offset u64, region u32, count u32), in a reused buffer. */
    ByteBuffer readRequest(int region, long offset, int count) {
        return readPayload.clear().putLong(offset).putInt(region).putInt(count).flip();
    }

    /** The REGION_WRITE payload of one dword (spec: offset u64, region u32, count u32, data), reused. */
    ByteBuffer writeRequest(int region, long offset, int value) {
        return writePayload.clear().putLong(offset).putInt(region).putInt(4).putInt(value).flip();
    }

    /** A 4-byte REGION_READ round trip; returns the value read. */
    int read4(int region, long offset) throws IOException {
        try (Frame f = call(Command.REGION_READ, readRequest(region, offset, 4))) {
            return f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(f.payload().position() + 16);
        }
    }

    /** A synchronous 4-byte REGION_WRITE (the reply awaited and dropped), from a reused buffer. */
    void write4(int region, long offset, int value) throws IOException {
        call(Command.REGION_WRITE, writeRequest(region, offset, value)).close();
    }

    /**
     * A posted REGION_WRITE_MULTI of two writes, 4 bytes of {@code a} at {@code offsetA} and 2 bytes of {@code b}
     * at {@code offsetB} (spec "VFIO_USER_REGION_WRITE_MULTI": wr_cnt u64, then per write offset u64, region u32,
     * count u32 and 8 data bytes of which count are used), from a reused buffer.
     */
    void postMulti(int region, long offsetA, int a, long offsetB, short b) throws IOException {
        ByteBuffer p = multiPayload.clear().putLong(2);
        p.putLong(offsetA).putInt(region).putInt(4).putInt(a).putInt(0);
        p.putLong(offsetB).putInt(region).putInt(2).putShort(b).putShort((short) 0).putInt(0);
        send(Command.REGION_WRITE_MULTI, p.flip(), true);
    }

    /**
     * A 4-byte REGION_READ as a barrier, receiving until its reply and counting the DMA_WRITE commands the
     * server posted before it; each must be a 4-byte write of {@code data} to {@code address}.
     */
    int barrierCountingDmaWrites(int region, long offset, long address, int data) throws IOException {
        int id = send(Command.REGION_READ, readRequest(region, offset, 4), false);
        int writes = 0;
        while (true) {
            try (Frame f = receive()) {
                Header h = f.header();
                if (h.isReply() && h.msgId() == id) {
                    return writes;
                }
                ByteBuffer p = f.payload().order(ByteOrder.LITTLE_ENDIAN);
                int at = p.position();
                // Spec "VFIO_USER_DMA_WRITE" request: address u64, count u64, data.
                if (!h.isCommand() || h.command() != Command.DMA_WRITE.code() || p.remaining() != 20
                        || p.getLong(at) != address || p.getLong(at + 8) != 4 || p.getInt(at + 16) != data) {
                    throw new IOException("expected a 4-byte DMA_WRITE of 0x" + Integer.toHexString(data) + " to 0x"
                            + Long.toHexString(address) + ", got " + h);
                }
                writes++;
            }
        }
    }

    /** A synchronous REGION_WRITE of {@code count} (1, 2 or 4) bytes of {@code value}. */
    void write(int region, long offset, int count, int value) throws IOException {
        ByteBuffer p = ByteBuffer.allocate(16 + count).order(ByteOrder.LITTLE_ENDIAN);
        p.putLong(offset).putInt(region).putInt(count);
        for (int i = 0; i < count; i++) {
            p.put((byte) (value >>> (8 * i)));
        }
        call(Command.REGION_WRITE, p.flip()).close();
    }

    /** A posted (No_reply) 4-byte REGION_WRITE. */
    void post4(int region, long offset, int value) throws IOException {
        send(Command.REGION_WRITE, writeRequest(region, offset, value), true);
    }

    /** SET_IRQS (spec "VFIO_USER_DEVICE_SET_IRQS": argsz, flags, index, start, count u32 each), fds attached. */
    void setIrqs(long flags, int index, int start, int count, int... fds) throws IOException {
        ByteBuffer p = ByteBuffer.allocate(DeviceSetIrqs.FIXED).order(ByteOrder.LITTLE_ENDIAN);
        p.putInt(DeviceSetIrqs.FIXED).putInt((int) flags).putInt(index).putInt(start).putInt(count).flip();
        call(Command.DEVICE_SET_IRQS, p, fds).close();
    }

    /**
     * DEVICE_GET_REGION_INFO for region {@code index} (spec "VFIO_USER_DEVICE_GET_REGION_INFO": argsz, flags,
     * index, cap_offset u32 each, then size and offset u64; reply alike, capabilities ignored).
     */
    RegionInfo regionInfo(int index) throws IOException {
        ByteBuffer p = ByteBuffer.allocate(RegionInfo.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        p.putInt(RegionInfo.SIZE).putInt(0).putInt(index).putInt(0).putLong(0).putLong(0).flip();
        try (Frame f = call(Command.DEVICE_GET_REGION_INFO, p)) {
            ByteBuffer b = f.payload().order(ByteOrder.LITTLE_ENDIAN);
            if (b.remaining() < RegionInfo.SIZE) {
                throw new IOException("region info reply of " + b.remaining() + " bytes");
            }
            return new RegionInfo(b.getInt(b.position() + 4), b.getLong(b.position() + 16));
        }
    }

    /** A region's flags (VFIO_REGION_INFO_FLAG_*) and size, as DEVICE_GET_REGION_INFO reports them. */
    record RegionInfo(int flags, long size) {
        static final int SIZE = 32;
        /** VFIO_REGION_INFO_FLAG_READ. */
        static final int FLAG_READ = 1;

        /** Readable and holding at least the 4-byte register the bench reads. */
        boolean readable4() {
            return (flags & FLAG_READ) != 0 && size >= 4;
        }
    }

    @Override
    public void close() {
        transport.close();
    }

    /** The server answered a command with an error reply: the connection itself is still in step. */
    static final class ErrorReply extends IOException {
        ErrorReply(long errno, int command) {
            super("error reply, errno " + errno + " to command " + command);
        }
    }
}
