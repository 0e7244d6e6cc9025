package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DEVICE_SET_IRQS}. Request: {@code argsz u32, flags u32, index u32, start u32, count u32,
 * data} where data is {@code count} bool bytes with DATA_BOOL and absent otherwise; the reply has no payload.
 *
 * <p>argsz decision: argsz is the request payload size including data (spec), so it must equal the payload
 * length exactly: 20 for DATA_NONE and DATA_EVENTFD (QEMU sends eventfds out of band with argsz 20), 20 +
 * count for DATA_BOOL. Fds: DATA_EVENTFD with no fds de-assigns; otherwise it carries exactly {@code count}
 * fds; the other data types carry none.
 *
 * <p>Errors (all EINVAL): not exactly one DATA and one ACTION flag, unknown flag bits, argsz or payload not
 * matching the data type, start + count overflowing u32, a wrong number of fds.
 */
public final class DeviceSetIrqs {

    public static final int FIXED = 20;
    public static final long DATA_NONE = 1;
    public static final long DATA_BOOL = 2;
    public static final long DATA_EVENTFD = 4;
    public static final long ACTION_MASK = 8;
    public static final long ACTION_UNMASK = 0x10;
    public static final long ACTION_TRIGGER = 0x20;
    static final long DATA_MASK = DATA_NONE | DATA_BOOL | DATA_EVENTFD;
    static final long ACTION_MASK_ALL = ACTION_MASK | ACTION_UNMASK | ACTION_TRIGGER;

    private DeviceSetIrqs() {
    }

    /** @param data the bool bytes (DATA_BOOL only; empty otherwise), a read-only view */
    public record Request(long argsz, long flags, long index, long start, long count, ByteBuffer data)
            implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            Checks.u32(index, "index");
            Checks.u32(start, "start");
            Checks.u32(count, "count");
            data = Bytes.view(data);
        }

        /** A request with argsz computed from the data (20 + data length). */
        public static DeviceSetIrqs.Request of(long flags, long index, long start, long count, ByteBuffer data) {
            return new DeviceSetIrqs.Request(FIXED + (long) data.remaining(), flags, index, start, count, data);
        }

        public static DeviceSetIrqs.Request of(long flags, long index, long start, long count) {
            return of(flags, index, start, count, ByteBuffer.allocate(0));
        }

        @Override
        public ByteBuffer data() {
            return Bytes.cursor(data);
        }

        public long dataType() {
            return flags & DATA_MASK;
        }

        public long action() {
            return flags & ACTION_MASK_ALL;
        }

        /**
         * How many fds this request must arrive with, given how many did: {@code count} for DATA_EVENTFD
         * unless none came (de-assign), zero otherwise.
         */
        public long expectedFds(int received) {
            return dataType() == DATA_EVENTFD && received != 0 ? count : 0;
        }

        @Override
        public Command command() {
            return Command.DEVICE_SET_IRQS;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.remaining();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putInt((int) index).putInt((int) start)
                    .putInt((int) count).put(data.duplicate());
        }
    }

    public record Reply() implements Message.Reply {

        @Override
        public Command command() {
            return Command.DEVICE_SET_IRQS;
        }

        @Override
        public int payloadSize() {
            return 0;
        }

        @Override
        public void writePayload(ByteBuffer out) {
        }
    }

    static DeviceSetIrqs.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "DEVICE_SET_IRQS");
        long argsz = p.u32(0);
        long flags = p.u32(4);
        long index = p.u32(8);
        long start = p.u32(12);
        long count = p.u32(16);
        Checks.onlyBits(flags, DATA_MASK | ACTION_MASK_ALL, "DEVICE_SET_IRQS");
        // Rule: exactly one data type and exactly one action.
        if (Long.bitCount(flags & DATA_MASK) != 1 || Long.bitCount(flags & ACTION_MASK_ALL) != 1) {
            throw Checks.inval("DEVICE_SET_IRQS: flags 0x" + Long.toHexString(flags)
                    + " must name one data type and one action");
        }
        // Rule: the sub-index range start..start+count-1 fits in u32.
        if (start + count > 0x1_0000_0000L) {
            throw Checks.inval("DEVICE_SET_IRQS: start " + start + " + count " + count + " overflows");
        }
        long dataLen = (flags & DATA_BOOL) != 0 ? count : 0;
        // Rule: argsz is the request payload size including data, and the payload holds exactly that.
        if (argsz != FIXED + dataLen) {
            throw Checks.inval("DEVICE_SET_IRQS: argsz " + argsz + " is not " + (FIXED + dataLen));
        }
        p.requireSize(FIXED + dataLen, "DEVICE_SET_IRQS");
        DeviceSetIrqs.Request r = new DeviceSetIrqs.Request(argsz, flags, index, start, count, p.bytes(FIXED, (int) dataLen));
        Checks.fds(fdCount, r.expectedFds(fdCount), "DEVICE_SET_IRQS");
        return r;
    }

    static DeviceSetIrqs.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "DEVICE_SET_IRQS reply");
        Checks.noFds(fdCount, "DEVICE_SET_IRQS reply");
        return new DeviceSetIrqs.Reply();
    }
}
