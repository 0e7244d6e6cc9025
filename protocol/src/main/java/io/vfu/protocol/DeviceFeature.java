package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DEVICE_FEATURE}. Request and reply: {@code argsz u32, flags u32, data}. flags bits 0-15
 * name the feature, 16 GET, 17 SET, 18 PROBE. The data layout follows from the flags ({@link FeatureData}).
 *
 * <p>argsz: in a request, the largest reply payload (at least 8). In a reply, the size the full reply needs,
 * 8 + data; a reply to a GET whose caller's argsz was too small is truncated to the 8 fixed bytes with
 * {@link FeatureData.None} and the needed argsz (spec "Message sizes").
 *
 * <p>Errors (EINVAL): unknown flag bits, none of GET/SET/PROBE, GET with SET but without PROBE, request argsz
 * below 8, reply argsz not matching its data, data not matching its feature's layout, fds attached.
 */
public final class DeviceFeature {

    public static final int FIXED = 8;
    public static final long INDEX_MASK = 0xFFFF;
    public static final long GET = 1L << 16;
    public static final long SET = 1L << 17;
    public static final long PROBE = 1L << 18;
    public static final int MIGRATION = 1;
    public static final int MIG_DEVICE_STATE = 2;
    public static final int DMA_LOGGING_START = 6;
    public static final int DMA_LOGGING_STOP = 7;
    public static final int DMA_LOGGING_REPORT = 8;

    private DeviceFeature() {
    }

    public record Request(long argsz, long flags, FeatureData data) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            if (FeatureData.kindFor(flags, false) != FeatureData.kindOf(data)) {
                throw new IllegalArgumentException("data " + data.getClass().getSimpleName()
                        + " does not fit flags 0x" + Long.toHexString(flags));
            }
        }

        public int feature() {
            return (int) (flags & INDEX_MASK);
        }

        @Override
        public Command command() {
            return Command.DEVICE_FEATURE;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.size();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags);
            data.write(out);
        }
    }

    public record Reply(long argsz, long flags, FeatureData data) implements Message.Reply {

        public Reply {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            boolean truncated = data instanceof FeatureData.None && argsz > FIXED;
            if (!truncated && (FeatureData.kindFor(flags, true) != FeatureData.kindOf(data)
                    || argsz != FIXED + (long) data.size())) {
                throw new IllegalArgumentException("data does not fit flags or argsz");
            }
        }

        /** The full reply: argsz is 8 + data. */
        public static DeviceFeature.Reply of(long flags, FeatureData data) {
            return new DeviceFeature.Reply(FIXED + (long) data.size(), flags, data);
        }

        /** The reply for a caller's argsz: full if it fits, else the 8 fixed bytes with the needed argsz. */
        public static DeviceFeature.Reply forArgsz(long callerArgsz, long flags, FeatureData data) {
            DeviceFeature.Reply full = of(flags, data);
            return callerArgsz >= full.argsz() ? full : new DeviceFeature.Reply(full.argsz(), flags, new FeatureData.None());
        }

        public int feature() {
            return (int) (flags & INDEX_MASK);
        }

        public boolean truncated() {
            return argsz > payloadSize();
        }

        @Override
        public Command command() {
            return Command.DEVICE_FEATURE;
        }

        @Override
        public int payloadSize() {
            return FIXED + data.size();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags);
            data.write(out);
        }
    }

    static DeviceFeature.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "DEVICE_FEATURE");
        Checks.noFds(fdCount, "DEVICE_FEATURE");
        long argsz = p.u32(0);
        long flags = checkFlags(p.u32(4));
        Checks.argszAtLeast(argsz, FIXED, "DEVICE_FEATURE");
        FeatureData.Kind kind = FeatureData.kindFor(flags, false);
        return new DeviceFeature.Request(argsz, flags, FeatureData.read(p, FIXED, p.size() - FIXED, kind, false));
    }

    static DeviceFeature.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "DEVICE_FEATURE reply");
        Checks.noFds(fdCount, "DEVICE_FEATURE reply");
        long argsz = p.u32(0);
        long flags = checkFlags(p.u32(4));
        FeatureData.Kind kind = FeatureData.kindFor(flags, true);
        if (p.size() == FIXED && argsz > FIXED) {
            // Truncated reply: only the fixed part, argsz says what the full reply needs.
            return new DeviceFeature.Reply(argsz, flags, new FeatureData.None());
        }
        // Rule: a full reply's argsz is exactly its payload size.
        p.requireSize(argsz, "DEVICE_FEATURE reply");
        return new DeviceFeature.Reply(argsz, flags, FeatureData.read(p, FIXED, p.size() - FIXED, kind, true));
    }

    private static long checkFlags(long flags) throws MessageException {
        Checks.onlyBits(flags, INDEX_MASK | GET | SET | PROBE, "DEVICE_FEATURE");
        boolean get = (flags & GET) != 0;
        boolean set = (flags & SET) != 0;
        boolean probe = (flags & PROBE) != 0;
        // Rule: at least one operation; GET and SET together only when probing.
        if (!get && !set && !probe) {
            throw Checks.inval("DEVICE_FEATURE: none of GET, SET, PROBE");
        }
        if (get && set && !probe) {
            throw Checks.inval("DEVICE_FEATURE: GET and SET without PROBE");
        }
        return flags;
    }
}
