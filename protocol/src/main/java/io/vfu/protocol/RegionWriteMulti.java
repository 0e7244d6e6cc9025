package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code VFIO_USER_REGION_WRITE_MULTI}. Request: {@code wr_cnt u64} then wr_cnt entries of
 * {@code offset u64, region u32, count u32, data[8]} (24 bytes each; only the first count data bytes are
 * meaningful, the rest are ignored on decode and zero on encode). Reply: {@code wr_cnt u64}.
 *
 * <p>Errors (EINVAL): wr_cnt not matching the payload (checked before any allocation), an entry count above 8
 * or offset + count wrapping, fds attached.
 */
public final class RegionWriteMulti {

    public static final int ENTRY = 24;
    public static final int MAX_DATA = 8;

    private RegionWriteMulti() {
    }

    /** One coalesced write; {@code data} holds 0..8 bytes. */
    public record Write(long offset, long region, ByteBuffer data) {

        public Write {
            Checks.u32(region, "region");
            data = Bytes.view(data);
            if (data.remaining() > MAX_DATA) {
                throw new IllegalArgumentException("a coalesced write carries at most 8 bytes");
            }
        }

        @Override
        public ByteBuffer data() {
            return Bytes.cursor(data);
        }

        public long count() {
            return data.remaining();
        }
    }

    public record Request(List<Write> writes) implements Message.Request {

        public Request {
            writes = List.copyOf(writes);
        }

        public long wrCnt() {
            return writes.size();
        }

        @Override
        public Command command() {
            return Command.REGION_WRITE_MULTI;
        }

        @Override
        public int payloadSize() {
            return 8 + ENTRY * writes.size();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(writes.size());
            for (Write w : writes) {
                int n = w.data.remaining();
                out.putLong(w.offset).putInt((int) w.region).putInt(n).put(w.data.duplicate());
                for (int i = n; i < MAX_DATA; i++) {
                    out.put((byte) 0);
                }
            }
        }
    }

    /** @param wrCnt the number of writes completed (u64) */
    public record Reply(long wrCnt) implements Message.Reply {

        @Override
        public Command command() {
            return Command.REGION_WRITE_MULTI;
        }

        @Override
        public int payloadSize() {
            return 8;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putLong(wrCnt);
        }
    }

    /**
     * A REGION_WRITE_MULTI request read in place, for the hot path (QEMU coalesces posted writes into it under
     * load): {@link #wrap} applies exactly the decoder's checks to every entry before any is used, and the
     * entries are then read where they arrived. Not thread-safe; one per reader; valid while the wrapped
     * buffer is.
     */
    public static final class RequestView {
        private ByteBuffer buf;
        private int base;
        private int count;

        /**
         * Checks the request in {@code payload} from its position to its limit (neither is changed).
         *
         * @throws MessageException with the errno the decoder gives the same bytes
         */
        public RequestView wrap(ByteBuffer payload, int fdCount) throws MessageException {
            int at = payload.position();
            int size = payload.remaining();
            Checks.sizeAtLeast(size, 8, "REGION_WRITE_MULTI");
            Checks.noFds(fdCount, "REGION_WRITE_MULTI");
            long wrCnt = Checks.u64(payload, at);
            // Rule: wr_cnt matches the entries present (unsigned), as the decoder checks it.
            if (wrCnt != (size - 8) / ENTRY || (size - 8) % ENTRY != 0) {
                throw Checks.inval("REGION_WRITE_MULTI: wr_cnt " + Long.toUnsignedString(wrCnt)
                        + " does not match a payload of " + size + " bytes");
            }
            int n = (int) wrCnt;
            for (int i = 0; i < n; i++) {
                int e = at + 8 + i * ENTRY;
                long c = Checks.u32(payload, e + 12);
                if (c > MAX_DATA) {
                    throw Checks.inval("REGION_WRITE_MULTI: write " + i + " count " + c + " exceeds 8");
                }
                Checks.noWrap(Checks.u64(payload, e), c, "REGION_WRITE_MULTI");
            }
            buf = payload;
            base = at + 8;
            count = n;
            return this;
        }

        /** wr_cnt: the number of writes. */
        public int count() {
            return count;
        }

        public long offset(int i) {
            return Checks.u64(buf, entry(i));
        }

        /** Region index of write {@code i}, a u32 widened. */
        public long region(int i) {
            return Checks.u32(buf, entry(i) + 8);
        }

        /** Data bytes of write {@code i}: 0..8. */
        public int dataCount(int i) {
            return (int) Checks.u32(buf, entry(i) + 12);
        }

        /** Absolute index of write {@code i}'s first data byte in the wrapped buffer. */
        public int dataPosition(int i) {
            return entry(i) + 16;
        }

        private int entry(int i) {
            java.util.Objects.checkIndex(i, count);
            return base + i * ENTRY;
        }
    }

    /** The record form of {@link RequestView}: one set of rules serves both. */
    static RegionWriteMulti.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        RequestView v = new RequestView().wrap(p.buffer(), fdCount);
        List<Write> writes = new ArrayList<>(v.count());
        for (int i = 0; i < v.count(); i++) {
            writes.add(new Write(v.offset(i), v.region(i), p.bytes(v.dataPosition(i), v.dataCount(i))));
        }
        return new RegionWriteMulti.Request(writes);
    }

    static RegionWriteMulti.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(8, "REGION_WRITE_MULTI reply");
        Checks.noFds(fdCount, "REGION_WRITE_MULTI reply");
        return new RegionWriteMulti.Reply(p.u64(0));
    }
}
