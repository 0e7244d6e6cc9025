package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DEVICE_GET_IRQ_INFO}. Request and reply payload:
 * {@code argsz u32, flags u32, index u32, count u32} (16 bytes).
 *
 * <p>Errors (EINVAL): payload not 16 bytes, fds attached, argsz below 16, a request with non-zero flags or
 * count.
 */
public final class DeviceGetIrqInfo {

    public static final int SIZE = 16;
    public static final long FLAG_EVENTFD = 1;
    public static final long FLAG_MASKABLE = 2;
    public static final long FLAG_AUTOMASKED = 4;
    public static final long FLAG_NORESIZE = 8;

    private DeviceGetIrqInfo() {
    }

    public record Request(long argsz, long index) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(index, "index");
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_IRQ_INFO;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt(0).putInt((int) index).putInt(0);
        }
    }

    public record Reply(long argsz, long flags, long index, long count) implements Message.Reply {

        public Reply {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            Checks.u32(index, "index");
            Checks.u32(count, "count");
        }

        public static DeviceGetIrqInfo.Reply of(long flags, long index, long count) {
            return new DeviceGetIrqInfo.Reply(SIZE, flags, index, count);
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_IRQ_INFO;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putInt((int) index).putInt((int) count);
        }
    }

    static DeviceGetIrqInfo.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DEVICE_GET_IRQ_INFO");
        Checks.noFds(fdCount, "DEVICE_GET_IRQ_INFO");
        Checks.zero(p.u32(4), "flags", "DEVICE_GET_IRQ_INFO");
        Checks.zero(p.u32(12), "count", "DEVICE_GET_IRQ_INFO");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, SIZE, "DEVICE_GET_IRQ_INFO");
        return new DeviceGetIrqInfo.Request(argsz, p.u32(8));
    }

    static DeviceGetIrqInfo.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DEVICE_GET_IRQ_INFO reply");
        Checks.noFds(fdCount, "DEVICE_GET_IRQ_INFO reply");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, SIZE, "DEVICE_GET_IRQ_INFO reply");
        return new DeviceGetIrqInfo.Reply(argsz, p.u32(4), p.u32(8), p.u32(12));
    }
}
