package io.vfu.server.session;

import io.vfu.device.RegionInfo;
import io.vfu.protocol.DeviceGetRegionInfo;
import io.vfu.protocol.DeviceGetRegionIoFds;
import io.vfu.protocol.Errno;
import io.vfu.protocol.Header;
import io.vfu.protocol.MessageException;
import io.vfu.protocol.RegionRead;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.transport.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Region commands (spec "VFIO_USER_DEVICE_GET_REGION_INFO", "..._GET_REGION_IO_FDS", "VFIO_USER_REGION_READ",
 * "VFIO_USER_REGION_WRITE") against the device, under its lock.
 */
final class RegionAccess {

    private final DeviceHost host;
    private final int regionCount;

    RegionAccess(DeviceHost host) {
        this.host = host;
        this.regionCount = host.withDevice(d -> d.regionCount()); // fixed for the device's lifetime
    }

    /** Region info, shortened to the fixed part when the caller's argsz is too small (spec "Message sizes"). */
    DeviceGetRegionInfo.Reply info(DeviceGetRegionInfo.Request r) throws MessageException {
        int index = index(r.index());
        RegionInfo info = host.withDevice(d -> d.regionInfo(index));
        long flags = (info.readable() ? DeviceGetRegionInfo.FLAG_READ : 0)
                | (info.writable() ? DeviceGetRegionInfo.FLAG_WRITE : 0);
        // No region is mmap-able yet, so no sparse-mmap capability and no fd accompany the reply.
        return DeviceGetRegionInfo.Reply.forArgsz(r.argsz(), flags, index, info.size(), 0, List.of());
    }

    /** No region offers ioeventfds: a valid region answers with zero sub-regions and no fds. */
    DeviceGetRegionIoFds.Reply ioFds(DeviceGetRegionIoFds.Request r) throws MessageException {
        int index = index(r.index());
        host.withDevice(d -> d.regionInfo(index));
        return DeviceGetRegionIoFds.Reply.forArgsz(r.argsz(), index, List.of());
    }

    /** Reads straight into the reply buffer: the data is copied once, from the device into the message. */
    void read(Connection connection, Header h, RegionRead.Request r) throws MessageException, IOException {
        int index = index(r.region());
        int count = (int) r.count(); // the decoder bounded count by max_data_xfer_size
        ByteBuffer payload = ByteBuffer.allocate(RegionRead.FIXED + count).order(ByteOrder.LITTLE_ENDIAN);
        payload.putLong(r.offset()).putInt(index).putInt(count);
        ByteBuffer data = payload.slice(RegionRead.FIXED, count);
        host.onDevice(d -> d.read(index, r.offset(), data));
        connection.reply(h, payload.position(0));
    }

    void write(long region, long offset, ByteBuffer data) throws MessageException {
        int index = index(region);
        host.onDevice(d -> d.write(index, offset, data));
    }

    private int index(long region) throws MessageException {
        // Rule: region indexes are u32 on the wire; anything past the device's regions is EINVAL.
        if (region < 0 || region >= regionCount) {
            throw new MessageException(Errno.EINVAL, "no region " + region);
        }
        return (int) region;
    }
}
