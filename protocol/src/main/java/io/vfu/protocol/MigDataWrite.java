package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_MIG_DATA_WRITE}. Request: {@code argsz u32, size u32, data} (size derived from the data);
 * the reply has no payload.
 *
 * <p>argsz is "the maximum size of the reply payload", and the reply has none, so any argsz is accepted and
 * kept. Errors: size above max_data_xfer_size is E2BIG; payload not matching size or fds attached is EINVAL.
 */
public final class MigDataWrite {

    public static final int FIXED = 8;

    private MigDataWrite() {
    }

    public record Request(long argsz, ByteBuffer data) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            data = Bytes.view(data);
        }

        @Override
        public ByteBuffer data() {
            return Bytes.cursor(data);
        }

        public long size() {
            return data.remaining();
        }

        @Override
        public Command command() {
            return Command.MIG_DATA_WRITE;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.remaining();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt(data.remaining()).put(data.duplicate());
        }
    }

    public record Reply() implements Message.Reply {

        @Override
        public Command command() {
            return Command.MIG_DATA_WRITE;
        }

        @Override
        public int payloadSize() {
            return 0;
        }

        @Override
        public void writePayload(ByteBuffer out) {
        }
    }

    static MigDataWrite.Request decodeRequest(Payload p, int fdCount, Limits limits) throws MessageException {
        p.requireAtLeast(FIXED, "MIG_DATA_WRITE");
        Checks.noFds(fdCount, "MIG_DATA_WRITE");
        long size = p.u32(4);
        Checks.xfer(size, limits, "MIG_DATA_WRITE");
        p.requireSize(FIXED + size, "MIG_DATA_WRITE");
        return new MigDataWrite.Request(p.u32(0), p.bytes(FIXED, (int) size));
    }

    static MigDataWrite.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "MIG_DATA_WRITE reply");
        Checks.noFds(fdCount, "MIG_DATA_WRITE reply");
        return new MigDataWrite.Reply();
    }
}
