package io.vfu.server.session;

import io.vfu.device.RegionInfo;
import io.vfu.protocol.DeviceGetRegionInfo;
import io.vfu.protocol.DeviceGetRegionIoFds;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.protocol.RegionInfoCap;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.protocol.RegionWriteMulti;
import io.vfu.server.device.DeviceHost;
import io.vfu.transport.Connection;
import io.vfu.transport.LentFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Region commands (spec "VFIO_USER_DEVICE_GET_REGION_INFO", "..._GET_REGION_IO_FDS", "VFIO_USER_REGION_READ",
 * "VFIO_USER_REGION_WRITE") against the device, under its lock.
 */
final class RegionAccess {

    /** Replies up to this size reuse one buffer (a BAR access is at most 8 bytes; QEMU reads config in dwords). */
    static final int RETAINED_REPLY = 64 * 1024;

    private final DeviceHost host;
    private final int regionCount;
    private ByteBuffer reply = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

    RegionAccess(DeviceHost host) {
        this.host = host;
        this.regionCount = host.regionCount();
    }

    /** A region-info reply and the fd that goes with it (-1: none; the device host owns it). */
    record Info(DeviceGetRegionInfo.Reply reply, int fd) {
    }

    /**
     * Region info, shortened to the fixed part when the caller's argsz is too small (spec "Message sizes"). A
     * region with mmap areas is MMAP, lists them in the sparse-mmap capability, and comes with the memfd that
     * backs the whole region (spec: the fd covers the region from offset 0).
     */
    Info info(DeviceGetRegionInfo.Request r) throws MessageException {
        int index = index(r.index());
        RegionInfo info = host.withDevice(d -> d.regionInfo(index));
        long flags = (info.readable() ? DeviceGetRegionInfo.FLAG_READ : 0)
                | (info.writable() ? DeviceGetRegionInfo.FLAG_WRITE : 0);
        if (!info.mmappable()) {
            return new Info(DeviceGetRegionInfo.Reply.forArgsz(r.argsz(), flags, index, info.size(), 0, List.of()),
                    -1);
        }
        int fd = host.sharedMemoryFd(index);
        // Rule: areas are offered only with the memory behind them; a device that declares areas without
        // sharing memory is a device bug, answered EIO rather than a region QEMU would map to nothing.
        RegionInfo.Area last = info.mmapAreas().getLast();
        // Rule: an area beyond the shared memory would map past the memfd's end, and the client's first touch
        // of it would be a bus error (QEMU dies of SIGBUS): such a device bug is EIO, never offered.
        if (fd < 0 || last.offset() + last.size() > host.sharedMemorySize(index)) {
            throw new MessageException(Errno.EIO, "region " + index + " declares mmap areas its shared memory ("
                    + host.sharedMemorySize(index) + " bytes) does not cover");
        }
        List<RegionInfoCap> caps = List.of(new RegionInfoCap.SparseMmap(info.mmapAreas().stream()
                .map(a -> new RegionInfoCap.Area(a.offset(), a.size())).toList()));
        DeviceGetRegionInfo.Reply reply = DeviceGetRegionInfo.Reply.forArgsz(r.argsz(),
                flags | DeviceGetRegionInfo.FLAG_MMAP, index, info.size(), 0, caps);
        // Rule: the fd goes with the full reply only; the client asks again after a truncated one (QEMU would
        // otherwise receive it twice and keep one).
        return new Info(reply, reply.truncated() ? -1 : fd);
    }

    /** No region offers ioeventfds: a valid region answers with zero sub-regions and no fds. */
    DeviceGetRegionIoFds.Reply ioFds(DeviceGetRegionIoFds.Request r) throws MessageException {
        int index = index(r.index());
        host.withDevice(d -> d.regionInfo(index));
        return DeviceGetRegionIoFds.Reply.forArgsz(r.argsz(), index, List.of());
    }

    /**
     * REGION_READ from the lent receive buffer: the device reads straight into a reused reply buffer, which is
     * then copied once into the socket's send buffer. Nothing is allocated for a read of up to
     * {@link #RETAINED_REPLY} bytes.
     */
    void read(Connection connection, LentFrame request, RegionRead.RequestView r)
            throws MessageException, IOException {
        int index = index(r.region());
        int count = (int) r.count(); // the view bounded count by max_data_xfer_size
        int total = RegionRead.FIXED + count;
        ByteBuffer out = replyBuffer(total);
        out.clear();
        out.putLong(0, r.offset()).putInt(8, index).putInt(12, count);
        out.position(RegionRead.FIXED).limit(total);
        host.read(index, r.offset(), out);
        out.position(0);
        connection.reply(request, out);
    }

    /** REGION_WRITE from the lent receive buffer: the device reads the data where it arrived. */
    void write(Connection connection, LentFrame request, RegionWrite.RequestView w)
            throws MessageException, IOException {
        int index = index(w.region());
        ByteBuffer payload = request.payload();
        int end = payload.limit();
        payload.position(w.dataPosition()).limit(w.dataPosition() + w.count());
        try {
            host.write(index, w.offset(), payload);
        } finally {
            payload.limit(end);
        }
        if (!request.noReply()) {
            ByteBuffer out = replyBuffer(RegionWrite.FIXED);
            out.clear();
            out.putLong(0, w.offset()).putInt(8, index).putInt(12, w.count()).limit(RegionWrite.FIXED);
            connection.reply(request, out);
        }
    }

    /** The reply buffer: reused up to {@link #RETAINED_REPLY} bytes, a one-off beyond. Reader thread only. */
    private ByteBuffer replyBuffer(int size) {
        if (size <= reply.capacity()) {
            return reply;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        if (size <= RETAINED_REPLY) {
            reply = b;
        }
        return b;
    }

    /**
     * REGION_WRITE_MULTI from the lent receive buffer (spec "VFIO_USER_REGION_WRITE_MULTI"): the writes run in
     * order, each as a REGION_WRITE would; the first one refused ends the request with its errno, the ones
     * before it stay done (as on real hardware, where each was a separate posted write).
     */
    void writeMulti(Connection connection, LentFrame request, RegionWriteMulti.RequestView v)
            throws MessageException, IOException {
        ByteBuffer payload = request.payload();
        int end = payload.limit();
        try {
            for (int i = 0; i < v.count(); i++) {
                // Rule: the view reads its entries through the payload's full limit; narrow it only for the write.
                payload.limit(end);
                int index = index(v.region(i));
                long offset = v.offset(i);
                int at = v.dataPosition(i);
                payload.position(at).limit(at + v.dataCount(i));
                host.write(index, offset, payload);
            }
        } finally {
            payload.limit(end);
        }
        if (!request.noReply()) {
            ByteBuffer out = replyBuffer(8);
            out.clear();
            out.putLong(0, v.count()).limit(8);
            connection.reply(request, out);
        }
    }

    private int index(long region) throws MessageException {
        // Rule: region indexes are u32 on the wire; anything past the device's regions is EINVAL.
        if (region < 0 || region >= regionCount) {
            throw new MessageException(Errno.EINVAL, "no region " + region);
        }
        return (int) region;
    }
}
