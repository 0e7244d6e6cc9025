package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DMA_READ} (server to client). Request: {@code address u64, count u64} (16 bytes). Reply:
 * {@code address u64, count u64, data} (count derived from the data).
 *
 * <p>Errors: count above max_data_xfer_size is E2BIG; payload length not matching count, address + count
 * wrapping, or fds attached is EINVAL.
 */
public final class DmaRead {

    public static final int FIXED = 16;

    private DmaRead() {
    }

    /** @param count u64 on the wire; bounded by max_data_xfer_size when decoded */
    public record Request(long address, long count) implements Message.Request {

        @Override
        public Command command() {
            return Command.DMA_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(address).putLong(count);
        }
    }

    public record Reply(long address, ByteBuffer data) implements Message.Reply {

        public Reply {
            data = Bytes.view(data);
        }

        @Override
        public ByteBuffer data() {
            return Bytes.cursor(data);
        }

        public long count() {
            return data.remaining();
        }

        @Override
        public Command command() {
            return Command.DMA_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.remaining();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(address).putLong(data.remaining()).put(data.duplicate());
        }
    }

    static DmaRead.Request decodeRequest(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireSize(FIXED, "DMA_READ");
        Checks.noFds(fdCount, "DMA_READ");
        DmaRead.Request r = new DmaRead.Request(p.u64(0), p.u64(8));
        Checks.xfer(r.count(), limits, "DMA_READ");
        Checks.noWrap(r.address(), r.count(), "DMA_READ");
        return r;
    }

    static DmaRead.Reply decodeReply(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireAtLeast(FIXED, "DMA_READ reply");
        Checks.noFds(fdCount, "DMA_READ reply");
        long count = p.u64(8);
        Checks.xfer(count, limits, "DMA_READ reply");
        p.requireSize(FIXED + count, "DMA_READ reply");
        return new DmaRead.Reply(p.u64(0), p.bytes(FIXED, (int) count));
    }
}
