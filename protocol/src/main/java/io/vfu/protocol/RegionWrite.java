package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_REGION_WRITE}. Request: {@code offset u64, region u32, count u32, data} (16 + count
 * bytes; count derived from the data). Reply: {@code offset u64, region u32, count u32} (16 bytes).
 *
 * <p>Errors: count above max_data_xfer_size is E2BIG; payload length not matching count, offset + count
 * wrapping, or fds attached is EINVAL.
 */
public final class RegionWrite {

    public static final int FIXED = 16;

    private RegionWrite() {
    }

    /** @param data the bytes to write, a read-only view (see {@link Bytes}) */
    public record Request(long offset, long region, ByteBuffer data) implements Message.Request {

        public Request {
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
            return Command.REGION_WRITE;
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

    public record Reply(long offset, long region, long count) implements Message.Reply {

        public Reply {
            Checks.u32(region, "region");
            Checks.u32(count, "count");
        }

        @Override
        public Command command() {
            return Command.REGION_WRITE;
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

    /**
     * A REGION_WRITE request read in place, for the hot path (a posted register write is the commonest message
     * a guest sends): {@link #wrap} applies exactly the decoder's checks to the payload bytes and keeps the
     * fields as primitives; the data stays where it is, at {@link #dataPosition()} of the wrapped buffer. Not
     * thread-safe; one per reader.
     */
    public static final class RequestView {
        private long offset;
        private long region;
        private int count;
        private int dataPosition;

        /**
         * Reads the request in {@code payload} from its position to its limit (neither is changed).
         *
         * @throws MessageException with the errno the decoder gives the same bytes
         */
        public RequestView wrap(ByteBuffer payload, int fdCount, Limits limits) throws MessageException {
            int base = payload.position();
            Checks.sizeAtLeast(payload.remaining(), FIXED, "REGION_WRITE");
            Checks.noFds(fdCount, "REGION_WRITE");
            long c = Checks.u32(payload, base + 12);
            Checks.xfer(c, limits, "REGION_WRITE");
            Checks.size(payload.remaining(), FIXED + c, "REGION_WRITE");
            long o = Checks.u64(payload, base);
            Checks.noWrap(o, c, "REGION_WRITE");
            offset = o;
            region = Checks.u32(payload, base + 8);
            count = (int) c; // c == remaining - 16 < 2^31
            dataPosition = base + FIXED;
            return this;
        }

        public long offset() {
            return offset;
        }

        /** The region index, a u32 widened. */
        public long region() {
            return region;
        }

        /** Data bytes; the payload holds exactly this many after the fixed part. */
        public int count() {
            return count;
        }

        /** Absolute index of the first data byte in the wrapped buffer. */
        public int dataPosition() {
            return dataPosition;
        }
    }

    /** The record form of {@link RequestView}: one set of rules serves both. */
    static RegionWrite.Request decodeRequest(Payload p, int fdCount, Limits limits) throws MessageException {
        RequestView v = new RequestView().wrap(p.buffer(), fdCount, limits);
        return new RegionWrite.Request(v.offset(), v.region(), p.bytes(v.dataPosition(), v.count()));
    }

    static RegionWrite.Reply decodeReply(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireSize(FIXED, "REGION_WRITE reply");
        Checks.noFds(fdCount, "REGION_WRITE reply");
        RegionWrite.Reply r = new RegionWrite.Reply(p.u64(0), p.u32(8), p.u32(12));
        Checks.xfer(r.count(), limits, "REGION_WRITE reply");
        return r;
    }
}
