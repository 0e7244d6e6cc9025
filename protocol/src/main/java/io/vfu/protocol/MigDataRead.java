package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_MIG_DATA_READ}. Request: {@code argsz u32, size u32} (8 bytes). Reply:
 * {@code argsz u32, size u32, data} where argsz is the whole reply payload (8 + size); both are derived from
 * the data, so the reply record holds only the data.
 *
 * <p>Errors: size above max_data_xfer_size is E2BIG; request argsz below 8 + size (the reply would not fit),
 * reply argsz or payload not matching size, or fds attached is EINVAL.
 */
public final class MigDataRead {

    public static final int FIXED = 8;

    private MigDataRead() {
    }

    public record Request(long argsz, long size) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(size, "size");
        }

        @Override
        public Command command() {
            return Command.MIG_DATA_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) size);
        }
    }

    public record Reply(ByteBuffer data) implements Message.Reply {

        public Reply {
            data = Bytes.view(data);
        }

        @Override
        public ByteBuffer data() {
            return Bytes.cursor(data);
        }

        public long size() {
            return data.remaining();
        }

        public long argsz() {
            return FIXED + (long) data.remaining();
        }

        @Override
        public Command command() {
            return Command.MIG_DATA_READ;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.remaining();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt(FIXED + data.remaining()).putInt(data.remaining()).put(data.duplicate());
        }
    }

    static MigDataRead.Request decodeRequest(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireSize(FIXED, "MIG_DATA_READ");
        Checks.noFds(fdCount, "MIG_DATA_READ");
        MigDataRead.Request r = new MigDataRead.Request(p.u32(0), p.u32(4));
        Checks.xfer(r.size(), limits, "MIG_DATA_READ");
        // Rule: argsz is the largest reply payload, which must hold the fixed part and the data asked for.
        Checks.argszAtLeast(r.argsz(), FIXED + r.size(), "MIG_DATA_READ");
        return r;
    }

    static MigDataRead.Reply decodeReply(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireAtLeast(FIXED, "MIG_DATA_READ reply");
        Checks.noFds(fdCount, "MIG_DATA_READ reply");
        long size = p.u32(4);
        Checks.xfer(size, limits, "MIG_DATA_READ reply");
        p.requireSize(FIXED + size, "MIG_DATA_READ reply");
        if (p.u32(0) != FIXED + size) {
            throw Checks.inval("MIG_DATA_READ reply: argsz " + p.u32(0) + " is not " + (FIXED + size));
        }
        return new MigDataRead.Reply(p.bytes(FIXED, (int) size));
    }
}
