package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DMA_UNMAP}: the client withdraws a range. Request and reply payload:
 * {@code argsz u32, flags u32, address u64, size u64} (24 bytes); the reply echoes the request entry.
 *
 * <p>Flags: the spec calls them unused, but QEMU sends {@link #FLAG_UNMAP_ALL} (2, the kernel's
 * {@code VFIO_DMA_UNMAP_FLAG_ALL}); we accept it. Bit 0 (the removed dirty-bitmap request) and any other bit
 * is EINVAL. Errors (EINVAL): payload not 24 bytes, argsz below 24, fds attached; with UNMAP_ALL a nonzero
 * address or size (as Linux {@code vfio_dma_do_unmap} answers; QEMU sends both zero); without it a zero size
 * or a wrapping range.
 */
public final class DmaUnmap {

    public static final int SIZE = 24;
    public static final long FLAG_UNMAP_ALL = 2;

    private DmaUnmap() {
    }

    public record Request(long argsz, long flags, long address, long size) implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
        }

        public static DmaUnmap.Request of(long address, long size) {
            return new DmaUnmap.Request(SIZE, 0, address, size);
        }

        public boolean unmapAll() {
            return (flags & FLAG_UNMAP_ALL) != 0;
        }

        @Override
        public Command command() {
            return Command.DMA_UNMAP;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putLong(address).putLong(size);
        }
    }

    /** The original entry, argsz set to 24. */
    public record Reply(long argsz, long flags, long address, long size) implements Message.Reply {

        public Reply {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
        }

        /** The reply the spec asks for: the request's entry with argsz 24. */
        public static DmaUnmap.Reply echo(DmaUnmap.Request r) {
            return new DmaUnmap.Reply(SIZE, r.flags(), r.address(), r.size());
        }

        @Override
        public Command command() {
            return Command.DMA_UNMAP;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putLong(address).putLong(size);
        }
    }

    static DmaUnmap.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DMA_UNMAP");
        Checks.noFds(fdCount, "DMA_UNMAP");
        DmaUnmap.Request r = new DmaUnmap.Request(p.u32(0), p.u32(4), p.u64(8), p.u64(16));
        Checks.argszAtLeast(r.argsz(), SIZE, "DMA_UNMAP");
        check(r.flags(), r.address(), r.size());
        return r;
    }

    static DmaUnmap.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DMA_UNMAP reply");
        Checks.noFds(fdCount, "DMA_UNMAP reply");
        DmaUnmap.Reply r = new DmaUnmap.Reply(p.u32(0), p.u32(4), p.u64(8), p.u64(16));
        Checks.argszAtLeast(r.argsz(), SIZE, "DMA_UNMAP reply");
        check(r.flags(), r.address(), r.size());
        return r;
    }

    private static void check(long flags, long address, long size) throws MessageException {
        Checks.onlyBits(flags, FLAG_UNMAP_ALL, "DMA_UNMAP");
        if ((flags & FLAG_UNMAP_ALL) != 0) {
            // Rule: unmap-all names no range, so it carries none.
            if (address != 0 || size != 0) {
                throw Checks.inval("DMA_UNMAP: unmap-all with address 0x" + Long.toHexString(address)
                        + " size 0x" + Long.toHexString(size));
            }
        } else {
            if (size == 0) {
                throw Checks.inval("DMA_UNMAP: size is zero");
            }
            Checks.noWrap(address, size, "DMA_UNMAP");
        }
    }
}
