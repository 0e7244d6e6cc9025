package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code VFIO_USER_DEVICE_GET_REGION_INFO}. Request: {@code argsz u32, flags u32, index u32, cap_offset u32,
 * size u64, offset u64} (32 bytes; only argsz and index may be non-zero). Reply: the same 32 bytes, then the
 * capability chain ({@link RegionInfoCap}).
 *
 * <p>Message sizes: the reply's argsz is the size the full reply needs. When the caller's argsz is smaller,
 * the reply is truncated to the 32-byte fixed part (flags keep CAPS, cap_offset is 0, as the kernel does) and
 * the client asks again with the larger argsz; see {@link Reply#forArgsz}. A full reply lays its caps out
 * back to back from offset 32; decoding accepts any forward-only chain.
 *
 * <p>Fds: a reply with the MMAP flag carries exactly one fd, except that a truncated reply may carry none.
 * Errors (EINVAL): request argsz below 32 or non-zero fields, payload sizes not matching argsz, a CAPS flag
 * disagreeing with the chain, cap_offset/next chain faults (see {@link RegionInfoCap#readChain}), wrong fds.
 */
public final class DeviceGetRegionInfo {

    public static final int FIXED = 32;
    public static final long FLAG_READ = 1;
    public static final long FLAG_WRITE = 2;
    public static final long FLAG_MMAP = 4;
    public static final long FLAG_CAPS = 8;

    private DeviceGetRegionInfo() {
    }

    public record Request(long argsz, long index) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(index, "index");
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_REGION_INFO;
        }

        @Override
        public int payloadSize() {
            return FIXED;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt(0).putInt((int) index).putInt(0).putLong(0).putLong(0);
        }
    }

    /**
     * @param argsz the payload size the full reply needs (32 + caps); larger than the payload when truncated
     * @param caps  the capabilities, empty when there are none or the reply is truncated
     */
    public record Reply(long argsz, long flags, long index, long size, long offset, List<RegionInfoCap> caps)
            implements Message.Reply {

        public Reply {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
            Checks.u32(index, "index");
            caps = List.copyOf(caps);
            long capsSize = capsSize(caps);
            if (!caps.isEmpty() && (argsz != FIXED + capsSize || (flags & FLAG_CAPS) == 0)) {
                throw new IllegalArgumentException("a reply with caps has the CAPS flag and argsz 32 + caps");
            }
            if (caps.isEmpty() && argsz < FIXED) {
                throw new IllegalArgumentException("argsz is at least 32");
            }
        }

        /** The full reply; sets CAPS when there are caps and argsz to what they need. */
        public static DeviceGetRegionInfo.Reply full(long flags, long index, long size, long offset, List<RegionInfoCap> caps) {
            long f = caps.isEmpty() ? flags & ~FLAG_CAPS : flags | FLAG_CAPS;
            return new DeviceGetRegionInfo.Reply(FIXED + capsSize(caps), f, index, size, offset, caps);
        }

        /** The reply for a caller's argsz: full if it fits, else the fixed part with the needed argsz. */
        public static DeviceGetRegionInfo.Reply forArgsz(long callerArgsz, long flags, long index, long size, long offset,
                                     List<RegionInfoCap> caps) {
            DeviceGetRegionInfo.Reply r = full(flags, index, size, offset, caps);
            if (callerArgsz >= r.argsz()) {
                return r;
            }
            return new DeviceGetRegionInfo.Reply(r.argsz(), r.flags(), index, size, offset, List.of());
        }

        public boolean truncated() {
            return argsz > payloadSize();
        }

        /**
         * cap_offset on the wire: 32 whenever CAPS is set, where the chain starts in the full reply. A truncated
         * reply keeps it too: QEMU 11 refuses a reply with CAPS whose cap_offset lies inside the info (0 included)
         * before it looks at argsz and asks again.
         */
        public long capOffset() {
            return (flags & FLAG_CAPS) != 0 && (!caps.isEmpty() || truncated()) ? FIXED : 0;
        }

        @Override
        public Command command() {
            return Command.DEVICE_GET_REGION_INFO;
        }

        @Override
        public int payloadSize() {
            return FIXED + (int) capsSize(caps);
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putInt((int) index).putInt((int) capOffset())
                    .putLong(size).putLong(offset);
            RegionInfoCap.writeChain(caps, FIXED, out);
        }

        private static long capsSize(List<RegionInfoCap> caps) {
            long n = 0;
            for (RegionInfoCap c : caps) {
                n += c.size();
            }
            return n;
        }
    }

    static DeviceGetRegionInfo.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(FIXED, "REGION_INFO");
        Checks.noFds(fdCount, "REGION_INFO");
        Checks.zero(p.u32(4), "flags", "REGION_INFO");
        Checks.zero(p.u32(12), "cap_offset", "REGION_INFO");
        Checks.zero(p.u64(16), "size", "REGION_INFO");
        Checks.zero(p.u64(24), "offset", "REGION_INFO");
        long argsz = p.u32(0);
        Checks.argszAtLeast(argsz, FIXED, "REGION_INFO");
        return new DeviceGetRegionInfo.Request(argsz, p.u32(8));
    }

    static DeviceGetRegionInfo.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "REGION_INFO reply");
        long argsz = p.u32(0);
        long flags = p.u32(4);
        long capOffset = p.u32(12);
        boolean truncated = p.size() == FIXED && argsz > FIXED;
        List<RegionInfoCap> caps = List.of();
        if (p.size() > FIXED) {
            // Rule: a reply with caps is complete: argsz is its payload size, CAPS is set, cap_offset is used.
            p.requireSize(argsz, "REGION_INFO reply");
            if ((flags & FLAG_CAPS) == 0 || capOffset == 0) {
                throw Checks.inval("REGION_INFO reply: bytes after the info without CAPS and cap_offset");
            }
            caps = RegionInfoCap.readChain(p, capOffset, FIXED);
        } else if (argsz < FIXED) {
            throw Checks.inval("REGION_INFO reply: argsz " + argsz + " is smaller than 32");
        } else if (!truncated && capOffset != 0) {
            throw Checks.inval("REGION_INFO reply: cap_offset " + capOffset + " but no capabilities");
        }
        // Rule: MMAP comes with the region's fd; a truncated reply may leave it for the retry.
        long mmapFds = (flags & FLAG_MMAP) != 0 ? 1 : 0;
        if (!(fdCount == mmapFds || (truncated && fdCount == 0))) {
            throw Checks.inval("REGION_INFO reply: " + fdCount + " fds, expected " + mmapFds);
        }
        if (truncated && (flags & FLAG_CAPS) != 0 && capOffset != 0 && capOffset < FIXED) {
            throw Checks.inval("REGION_INFO reply: cap_offset " + capOffset + " inside the info");
        }
        return new DeviceGetRegionInfo.Reply(argsz, flags, p.u32(8), p.u64(16), p.u64(24), caps);
    }
}
