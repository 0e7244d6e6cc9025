package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DEVICE_GET_INFO}. Request and reply payload:
 * {@code argsz u32, flags u32, num_regions u32, num_irqs u32} (16 bytes).
 *
 * <p>Errors (EINVAL): payload not 16 bytes, fds attached, argsz below 16, a request with non-zero flags,
 * num_regions or num_irqs (the spec says they must be zero).
 */
public final class DeviceGetInfo {

    public static final int SIZE = 16;
    public static final long FLAG_RESET = 1;
    public static final long FLAG_PCI = 2;

    private DeviceGetInfo() {
    }

    /** @param argsz the largest reply payload the client accepts */
    public record Request(long argsz) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_INFO;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt(0).putInt(0).putInt(0);
        }
    }

    public record Reply(long argsz, long flags, long numRegions, long numIrqs) implements Message.Reply {

        public Reply {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            Checks.u32(numRegions, "num_regions");
            Checks.u32(numIrqs, "num_irqs");
        }

        public static DeviceGetInfo.Reply of(long flags, long numRegions, long numIrqs) {
            return new DeviceGetInfo.Reply(SIZE, flags, numRegions, numIrqs);
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_INFO;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putInt((int) numRegions).putInt((int) numIrqs);
        }
    }

    static DeviceGetInfo.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DEVICE_GET_INFO");
        Checks.noFds(fdCount, "DEVICE_GET_INFO");
        Checks.zero(p.u32(4), "flags", "DEVICE_GET_INFO");
        Checks.zero(p.u32(8), "num_regions", "DEVICE_GET_INFO");
        Checks.zero(p.u32(12), "num_irqs", "DEVICE_GET_INFO");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, SIZE, "DEVICE_GET_INFO");
        return new DeviceGetInfo.Request(argsz);
    }

    static DeviceGetInfo.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DEVICE_GET_INFO reply");
        Checks.noFds(fdCount, "DEVICE_GET_INFO reply");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, SIZE, "DEVICE_GET_INFO reply");
        return new DeviceGetInfo.Reply(argsz, p.u32(4), p.u32(8), p.u32(12));
    }
}
