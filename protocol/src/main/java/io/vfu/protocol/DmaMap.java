package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_DMA_MAP} (spec section of that name): the client offers a range of its memory.
 * Request payload: {@code argsz u32, flags u32, offset u64, address u64, size u64} (32 bytes); the reply
 * has no payload.
 *
 * <p>Flags: the spec defines readable (bit 0) and writeable (bit 1). libvfio-user's {@code include/vfio-user.h}
 * adds an access mode for the fd a map carries: {@link #FLAG_MMAP} (bit 2, {@code VFIO_USER_F_DMA_REGION_MMAP},
 * "mmap the fd", what the fd alone has always meant) and {@link #FLAG_FILE_IO} (bit 3, reach the memory by
 * pread/pwrite on the fd, for fds that cannot be mmap'd such as {@code /proc/PID/mem}). An access mode
 * describes an fd, so it comes with exactly one, and a map has at most one mode.
 *
 * <p>Errors (all EINVAL): payload not 32 bytes, argsz not 32, other flag bits, size zero, address + size
 * wrapping, more than one fd, an access mode without an fd, both access modes. One fd means the range can be
 * reached through that fd at {@code offset}; none means DMA goes through DMA_READ/DMA_WRITE.
 */
public final class DmaMap {

    public static final int SIZE = 32;
    public static final long FLAG_READ = 1;
    public static final long FLAG_WRITE = 2;
    /** libvfio-user {@code VFIO_USER_F_DMA_REGION_MMAP}: the server is to mmap the fd. */
    public static final long FLAG_MMAP = 4;
    /** libvfio-user's file I/O access mode: the server is to pread/pwrite the fd. */
    public static final long FLAG_FILE_IO = 8;

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
        Checks.onlyBits(r.flags(), FLAG_READ | FLAG_WRITE | FLAG_MMAP | FLAG_FILE_IO, "DMA_MAP");
        if (r.size() == 0) {
            throw Checks.inval("DMA_MAP: size is zero");
        }
        Checks.noWrap(r.address(), r.size(), "DMA_MAP");
        // Rule: at most one fd, the backing of the range.
        if (fdCount > 1) {
            throw Checks.inval("DMA_MAP: carries " + fdCount + " fds, expected 0 or 1");
        }
        long mode = r.flags() & (FLAG_MMAP | FLAG_FILE_IO);
        // Rule: one access mode at most; it says how to use the fd, so it needs one.
        if (mode == (FLAG_MMAP | FLAG_FILE_IO)) {
            throw Checks.inval("DMA_MAP: both the mmap and the file I/O access mode");
        }
        if (mode != 0 && fdCount == 0) {
            throw Checks.inval("DMA_MAP: access mode 0x" + Long.toHexString(mode) + " without an fd");
        }
        return r;
    }

    static DmaMap.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireSize(0, "DMA_MAP reply");
        Checks.noFds(fdCount, "DMA_MAP reply");
        return new DmaMap.Reply();
    }
}
