package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DEVICE_RESET}: neither request nor reply has a payload. Errors (EINVAL): any payload byte
 * or fd.
 */
public final class DeviceReset {

    private DeviceReset() {
    }

    public record Request() implements Message.Request {

        @Override
        public Command command() {
            return Command.DEVICE_RESET;
        }

        @Override
        public int payloadSize() {
            return 0;
        }

        @Override
        public void writePayload(ByteBuffer out) {
        }
    }

    public record Reply() implements Message.Reply {

        @Override
        public Command command() {
            return Command.DEVICE_RESET;
        }

        @Override
        public int payloadSize() {
            return 0;
        }

        @Override
        public void writePayload(ByteBuffer out) {
        }
    }

    static DeviceReset.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "DEVICE_RESET");
        Checks.noFds(fdCount, "DEVICE_RESET");
        return new DeviceReset.Request();
    }

    static DeviceReset.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "DEVICE_RESET reply");
        Checks.noFds(fdCount, "DEVICE_RESET reply");
        return new DeviceReset.Reply();
    }
}
