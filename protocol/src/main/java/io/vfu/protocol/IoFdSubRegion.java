package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * One sub-region of a {@code VFIO_USER_DEVICE_GET_REGION_IO_FDS} reply (spec "Sub-Region IO FD info
 * format"): {@code offset u64, size u64, fd_index u32, type u32, flags u32, padding u32, datamatch or
 * user_data u64} (40 bytes). The padding is written as zero and ignored on decode.
 */
public sealed interface IoFdSubRegion permits IoFdSubRegion.IoEventFd, IoFdSubRegion.IoRegionFd {

    int SIZE = 40;
    long TYPE_IOEVENTFD = 0;
    long TYPE_IOREGIONFD = 1;

    long offset();

    long size();

    long fdIndex();

    long flags();

    /** An ioeventfd: the client registers the fd with e.g. KVM_IOEVENTFD, matching {@code datamatch}. */
    record IoEventFd(long offset, long size, long fdIndex, long flags, long datamatch) implements IoFdSubRegion {
        public IoEventFd {
            Checks.u32(fdIndex, "fd_index");
            Checks.u32(flags, "flags");
        }
    }

    /** An ioregionfd: {@code userData} is passed back to the server on the fd. */
    record IoRegionFd(long offset, long size, long fdIndex, long flags, long userData) implements IoFdSubRegion {
        public IoRegionFd {
            Checks.u32(fdIndex, "fd_index");
            Checks.u32(flags, "flags");
        }
    }

    static void write(IoFdSubRegion s, ByteBuffer out) {
        long type = s instanceof IoEventFd ? TYPE_IOEVENTFD : TYPE_IOREGIONFD;
        long last = switch (s) {
            case IoEventFd e -> e.datamatch();
            case IoRegionFd r -> r.userData();
        };
        out.putLong(s.offset()).putLong(s.size()).putInt((int) s.fdIndex()).putInt((int) type)
                .putInt((int) s.flags()).putInt(0).putLong(last);
    }

    static IoFdSubRegion read(Payload p, int at) throws MessageException {
        long type = p.u32(at + 20);
        long offset = p.u64(at);
        long size = p.u64(at + 8);
        long fdIndex = p.u32(at + 16);
        long flags = p.u32(at + 24);
        long last = p.u64(at + 32);
        if (type == TYPE_IOEVENTFD) {
            return new IoEventFd(offset, size, fdIndex, flags, last);
        }
        if (type == TYPE_IOREGIONFD) {
            return new IoRegionFd(offset, size, fdIndex, flags, last);
        }
        throw Checks.inval("REGION_IO_FDS: unknown sub-region type " + type);
    }
}
