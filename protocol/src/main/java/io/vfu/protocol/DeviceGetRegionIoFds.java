package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code VFIO_USER_DEVICE_GET_REGION_IO_FDS}. Request: {@code argsz u32, flags u32, index u32, count u32}
 * (16 bytes; flags and count zero). Reply: the same 16 bytes then {@code count} sub-regions of
 * {@link IoFdSubRegion#SIZE} bytes.
 *
 * <p>Spec ambiguities decided: the spec places entry i at {@code i * ((argsz - 32) / count)} but the fixed
 * part is 16 bytes; we use 40-byte entries directly after the 16-byte header, so a full reply has
 * {@code argsz = 16 + 40 * count}. A reply may be truncated (spec "Message sizes"): when the caller's argsz
 * is too small it carries only the fixed part, with the needed argsz and the full count, and no fds.
 *
 * <p>Fds: a full reply with sub-regions carries at least one fd and every fd_index refers to one; a truncated
 * or empty reply carries none. Errors (EINVAL): argsz below 16, non-zero request flags/count, reply flags
 * non-zero, argsz/count/payload disagreeing, unknown sub-region type, bad fd_index, wrong fd count.
 */
public final class DeviceGetRegionIoFds {

    public static final int FIXED = 16;

    private DeviceGetRegionIoFds() {
    }

    public record Request(long argsz, long index) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(index, "index");
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_REGION_IO_FDS;
        }

        @Override
        public int payloadSize() {
            return FIXED;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt(0).putInt((int) index).putInt(0);
        }
    }

    /**
     * @param count      the number of sub-regions the full reply holds
     * @param subRegions the sub-regions, or empty in a truncated reply
     */
    public record Reply(long index, long count, List<IoFdSubRegion> subRegions) implements Message.Reply {

        public Reply {
            Checks.u32(index, "index");
            Checks.u32(count, "count");
            subRegions = List.copyOf(subRegions);
            if (!subRegions.isEmpty() && subRegions.size() != count) {
                throw new IllegalArgumentException("count must match the sub-regions of a full reply");
            }
            if (fullArgsz(count) > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("too many sub-regions for a u32 argsz");
            }
        }

        /** The full reply. */
        public static DeviceGetRegionIoFds.Reply full(long index, List<IoFdSubRegion> subRegions) {
            return new DeviceGetRegionIoFds.Reply(index, subRegions.size(), subRegions);
        }

        /** The reply for a caller's argsz: the full reply if it fits, else the fixed part only. */
        public static DeviceGetRegionIoFds.Reply forArgsz(long callerArgsz, long index, List<IoFdSubRegion> subRegions) {
            DeviceGetRegionIoFds.Reply full = full(index, subRegions);
            return callerArgsz >= full.argsz() ? full : new DeviceGetRegionIoFds.Reply(index, subRegions.size(), List.of());
        }

        /** The payload size a full reply needs. */
        public long argsz() {
            return fullArgsz(count);
        }

        public boolean truncated() {
            return subRegions.isEmpty() && count > 0;
        }

        /** Fds the full reply needs: one past the largest fd_index (0 when truncated or empty). */
        public long expectedFds() {
            long max = -1;
            for (IoFdSubRegion s : subRegions) {
                max = Math.max(max, s.fdIndex());
            }
            return max + 1;
        }

        private static long fullArgsz(long count) {
            return FIXED + IoFdSubRegion.SIZE * count;
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_REGION_IO_FDS;
        }

        @Override
        public int payloadSize() {
            return FIXED + IoFdSubRegion.SIZE * subRegions.size();
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz()).putInt(0).putInt((int) index).putInt((int) count);
            for (IoFdSubRegion s : subRegions) {
                IoFdSubRegion.write(s, out);
            }
        }
    }

    static DeviceGetRegionIoFds.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(FIXED, "REGION_IO_FDS");
        Checks.noFds(fdCount, "REGION_IO_FDS");
        Checks.zero(p.u32(4), "flags", "REGION_IO_FDS");
        Checks.zero(p.u32(12), "count", "REGION_IO_FDS");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, FIXED, "REGION_IO_FDS");
        return new DeviceGetRegionIoFds.Request(argsz, p.u32(8));
    }

    static DeviceGetRegionIoFds.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "REGION_IO_FDS reply");
        long argsz = p.u32(0);
        Checks.zero(p.u32(4), "flags", "REGION_IO_FDS reply");
        long index = p.u32(8);
        long count = p.u32(12);
        // Rule: argsz is exactly the full reply size for count entries.
        if (argsz != FIXED + (long) IoFdSubRegion.SIZE * count) {
            throw Checks.inval("REGION_IO_FDS reply: argsz " + argsz + " does not match count " + count);
        }
        if (p.size() == FIXED) {
            // Truncated (or empty) reply: the fixed part only, no fds.
            Checks.noFds(fdCount, "REGION_IO_FDS reply");
            return new DeviceGetRegionIoFds.Reply(index, count, List.of());
        }
        // Rule: a full reply holds exactly count entries (checked before allocating the list).
        p.requireSize(argsz, "REGION_IO_FDS reply");
        List<IoFdSubRegion> subs = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            subs.add(IoFdSubRegion.read(p, FIXED + i * IoFdSubRegion.SIZE));
        }
        DeviceGetRegionIoFds.Reply r = new DeviceGetRegionIoFds.Reply(index, count, subs);
        // Rule: at least one fd, and every fd_index names a received fd.
        if (fdCount < 1 || r.expectedFds() > fdCount) {
            throw Checks.inval("REGION_IO_FDS reply: " + fdCount + " fds for fd_index up to "
                    + (r.expectedFds() - 1));
        }
        return r;
    }
}
