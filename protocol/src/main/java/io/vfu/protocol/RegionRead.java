package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_REGION_READ}. Request: {@code offset u64, region u32, count u32} (16 bytes). Reply: the
 * same fields then {@code count} data bytes. The reply's count is derived from its data, so a record cannot
 * disagree with itself.
 *
 * <p>Errors: count above max_data_xfer_size is E2BIG; payload length not matching count, offset + count
 * wrapping, or fds attached is EINVAL.
 */
public final class RegionRead {

    public static final int FIXED = 16;

    private RegionRead() {
    }

    public record Request(long offset, long region, long count) implements Message.Request {

        public Request {
            Checks.u32(region, "region");
            Checks.u32(count, "count");
        }

        @Override
        public Command command() {
            return Command.REGION_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(offset).putInt((int) region).putInt((int) count);
        }
    }

    /** @param data the bytes read, a read-only view (see {@link Bytes}) */
    public record Reply(long offset, long region, ByteBuffer data) implements Message.Reply {

        public Reply {
            Checks.u32(region, "region");
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
            return Command.REGION_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.remaining();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(offset).putInt((int) region).putInt(data.remaining()).put(data.duplicate());
        }
    }

    /**
     * A REGION_READ request read in place, for the hot path: {@link #wrap} applies exactly the checks of the
     * decoder ({@link MessageDecoder}) to the payload bytes and keeps the three fields as primitives, so a
     * reused view decodes without allocating. Not thread-safe; one per reader.
     */
    public static final class RequestView {
        private long offset;
        private long region;
        private long count;

        /**
         * Reads the request in {@code payload} from its position to its limit (neither is changed).
         *
         * @throws MessageException with the errno the decoder gives the same bytes
         */
        public RequestView wrap(ByteBuffer payload, int fdCount, Limits limits) throws MessageException {
            int base = payload.position();
            Checks.size(payload.remaining(), FIXED, "REGION_READ");
            Checks.noFds(fdCount, "REGION_READ");
            long o = Checks.u64(payload, base);
            long c = Checks.u32(payload, base + 12);
            Checks.xfer(c, limits, "REGION_READ");
            Checks.noWrap(o, c, "REGION_READ");
            offset = o;
            region = Checks.u32(payload, base + 8);
            count = c;
            return this;
        }

        public long offset() {
            return offset;
        }

        /** The region index, a u32 widened. */
        public long region() {
            return region;
        }

        /** Bytes to read, a u32 widened; at most max_data_xfer_size. */
        public long count() {
            return count;
        }
    }

    /** The record form of {@link RequestView}: one set of rules serves both. */
    static RegionRead.Request decodeRequest(Payload p, int fdCount, Limits limits) throws MessageException {
        RequestView v = new RequestView().wrap(p.buffer(), fdCount, limits);
        return new RegionRead.Request(v.offset(), v.region(), v.count());
    }

    static RegionRead.Reply decodeReply(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireAtLeast(FIXED, "REGION_READ reply");
        Checks.noFds(fdCount, "REGION_READ reply");
        long count = p.u32(12);
        Checks.xfer(count, limits, "REGION_READ reply");
        p.requireSize(FIXED + count, "REGION_READ reply");
        return new RegionRead.Reply(p.u64(0), p.u32(8), p.bytes(FIXED, (int) count));
    }
}
