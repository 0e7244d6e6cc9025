package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DMA_MAP} (spec section of that name): the client offers a range of its memory.
 * Request payload: {@code argsz u32, flags u32, offset u64, address u64, size u64} (32 bytes); the reply
 * has no payload.
 *
 * <p>Errors (all EINVAL): payload not 32 bytes, argsz not 32, unknown flag bits, size zero, address + size
 * wrapping, more than one fd. One fd means the range can be mmap'ed at {@code offset}; none means DMA goes
 * through DMA_READ/DMA_WRITE.
 */
public final class DmaMap {

    public static final int SIZE = 32;
    public static final long FLAG_READ = 1;
    public static final long FLAG_WRITE = 2;

    private DmaMap() {
    }

    /** @param address and {@code size}, {@code offset} are u64 (raw bits) */
    public record Request(long argsz, long flags, long offset, long address, long size)
            implements Message.Request {

        public Request {
            Checks.u32(argsz, "argsz");
            Checks.u32(flags, "flags");
        }

        /** The request as QEMU sends it: argsz 32. */
        public static DmaMap.Request of(long flags, long offset, long address, long size) {
            return new DmaMap.Request(SIZE, flags, offset, address, size);
        }

        public boolean readable() {
            return (flags & FLAG_READ) != 0;
        }

        public boolean writeable() {
            return (flags & FLAG_WRITE) != 0;
        }

        @Override
        public Command command() {
            return Command.DMA_MAP;
        }

        @Override
        public int payloadSize() {
            return SIZE;
        }

        @Override
        public void writePayload(ByteBuffer out) {
            out.putInt((int) argsz).putInt((int) flags).putLong(offset).putLong(address).putLong(size);
        }
    }

    /** Empty reply. */
    public record Reply() implements Message.Reply {

        @Override
        public Command command() {
            return Command.DMA_MAP;
        }

        @Override
        public int payloadSize() {
            return 0;
        }

        @Override
        public void writePayload(ByteBuffer out) {
        }
    }

    static DmaMap.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireSize(SIZE, "DMA_MAP");
        DmaMap.Request r = new DmaMap.Request(p.u32(0), p.u32(4), p.u64(8), p.u64(16), p.u64(24));
        // Rule: argsz is the size of the structure itself (there is no reply payload).
        if (r.argsz() != SIZE) {
            throw Checks.inval("DMA_MAP: argsz " + r.argsz() + " is not " + SIZE);
        }
        Checks.onlyBits(r.flags(), FLAG_READ | FLAG_WRITE, "DMA_MAP");
        if (r.size() == 0) {
            throw Checks.inval("DMA_MAP: size is zero");
        }
        Checks.noWrap(r.address(), r.size(), "DMA_MAP");
        // Rule: at most one fd, the mmap-able backing of the range.
        if (fdCount > 1) {
            throw Checks.inval("DMA_MAP: carries " + fdCount + " fds, expected 0 or 1");
        }
        return r;
    }

    static DmaMap.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "DMA_MAP reply");
        Checks.noFds(fdCount, "DMA_MAP reply");
        return new DmaMap.Reply();
    }
}
