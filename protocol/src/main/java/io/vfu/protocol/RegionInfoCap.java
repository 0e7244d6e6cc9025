package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A region capability in a {@code VFIO_USER_DEVICE_GET_REGION_INFO} reply (spec "VFIO region
 * capabilities"). Each starts with the cap header {@code id u16, version u16, next u32}, where next is the
 * offset of the following cap from the start of the region info (0 ends the chain).
 */
public sealed interface RegionInfoCap permits RegionInfoCap.SparseMmap, RegionInfoCap.Type {

    int HEADER = 8;
    int ID_SPARSE_MMAP = 1;
    int ID_TYPE = 2;

    /** Encoded size including the cap header. */
    int size();

    /** One mmap-able area, relative to the region's mmap offset. */
    record Area(long offset, long size) {
    }

    /**
     * Sparse mmap, id 1 version 1: {@code nr_areas u32, reserved u32}, then {@code offset u64, size u64} per
     * area. One fd (the region's) covers every area.
     */
    record SparseMmap(List<Area> areas) implements RegionInfoCap {
        public SparseMmap {
            areas = List.copyOf(areas);
        }

        @Override
        public int size() {
            return HEADER + 8 + 16 * areas.size();
        }
    }

    /** Device-specific region type, id 2 version 1: {@code type u32, subtype u32}. */
    record Type(long type, long subtype) implements RegionInfoCap {
        public Type {
            Checks.u32(type, "type");
            Checks.u32(subtype, "subtype");
        }

        @Override
        public int size() {
            return HEADER + 8;
        }
    }

    /** Writes the caps back to back; the first starts at {@code base} bytes from the region info start. */
    static void writeChain(List<RegionInfoCap> caps, int base, ByteBuffer out) {
        int at = base;
        for (int i = 0; i < caps.size(); i++) {
            RegionInfoCap c = caps.get(i);
            int next = i + 1 < caps.size() ? at + c.size() : 0;
            switch (c) {
                case SparseMmap s -> {
                    out.putShort((short) ID_SPARSE_MMAP).putShort((short) 1).putInt(next);
                    out.putInt(s.areas().size()).putInt(0);
                    for (Area a : s.areas()) {
                        out.putLong(a.offset()).putLong(a.size());
                    }
                }
                case Type t -> out.putShort((short) ID_TYPE).putShort((short) 1).putInt(next)
                        .putInt((int) t.type()).putInt((int) t.subtype());
            }
            at += c.size();
        }
    }

    /**
     * Reads the chain starting at {@code first}. We accept the back-to-back layout every known server writes
     * (libvfio-user, the kernel): the first cap right after the fixed info, each next exactly at the end of
     * the current cap. Rules (all EINVAL): every cap offset is 8-byte aligned, equals the end of what came
     * before (so the chain only moves forward: no loops, no overlap, no gaps) and leaves room for a cap
     * header; a cap's body fits before the next cap and the payload end; nr_areas is checked against the
     * bytes present before allocating; ids and versions other than sparse-mmap v1 and type v1 are rejected;
     * the last cap ends exactly at the payload end.
     */
    static List<RegionInfoCap> readChain(Payload p, long first, int minOffset) throws MessageException {
        List<RegionInfoCap> caps = new ArrayList<>();
        long at = first;
        long floor = minOffset;
        while (true) {
            if (at != floor || (at & 7) != 0 || at > p.size() - HEADER) {
                throw Checks.inval("REGION_INFO: capability offset " + at + " is misplaced");
            }
            int off = (int) at;
            int id = p.u16(off);
            int version = p.u16(off + 2);
            long next = p.u32(off + 4);
            long limit = next == 0 ? p.size() : next;
            if (limit > p.size()) {
                throw Checks.inval("REGION_INFO: capability next " + next + " is past the payload");
            }
            RegionInfoCap cap = switch (id) {
                case ID_SPARSE_MMAP -> readSparse(p, off, version, limit);
                case ID_TYPE -> readType(p, off, version, limit);
                default -> throw Checks.inval("REGION_INFO: unknown capability id " + id);
            };
            caps.add(cap);
            long end = at + cap.size();
            if (next == 0) {
                // Rule: no bytes after the last capability.
                if (end != p.size()) {
                    throw Checks.inval("REGION_INFO: " + (p.size() - end) + " bytes after the last capability");
                }
                return caps;
            }
            floor = end;
            at = next;
            // Loop guard: floor strictly grows (every cap is at least 16 bytes), so the walk ends.
        }
    }

    private static RegionInfoCap readSparse(Payload p, int off, int version, long limit) throws MessageException {
        if (version != 1) {
            throw Checks.inval("REGION_INFO: sparse mmap version " + version);
        }
        long room = limit - off - HEADER - 8;
        if (room < 0) {
            throw Checks.inval("REGION_INFO: truncated sparse mmap capability");
        }
        long nr = p.u32(off + HEADER);
        // Rule: nr_areas fits in the bytes before the next cap, checked before allocating.
        if (nr > room / 16) {
            throw Checks.inval("REGION_INFO: nr_areas " + nr + " exceeds the capability's bytes");
        }
        List<Area> areas = new ArrayList<>((int) nr);
        for (int i = 0; i < nr; i++) {
            int a = off + HEADER + 8 + 16 * i;
            areas.add(new Area(p.u64(a), p.u64(a + 8)));
        }
        return new SparseMmap(areas);
    }

    private static RegionInfoCap readType(Payload p, int off, int version, long limit) throws MessageException {
        if (version != 1) {
            throw Checks.inval("REGION_INFO: type capability version " + version);
        }
        if (limit - off < HEADER + 8) {
            throw Checks.inval("REGION_INFO: truncated type capability");
        }
        return new Type(p.u32(off + HEADER), p.u32(off + HEADER + 4));
    }
}
