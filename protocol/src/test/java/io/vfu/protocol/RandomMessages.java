package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;

/** Generates random valid messages (with the fd count each must travel with) for property tests. */
final class RandomMessages {

    record Sample(Message message, int fds) {
    }

    private final Random r;
    private final int maxData;

    RandomMessages(Random r, int maxData) {
        this.r = r;
        this.maxData = maxData;
    }

    private long u32() {
        return r.nextLong() & 0xFFFF_FFFFL;
    }

    private long u32Max(long max) {
        return (long) (r.nextDouble() * (max + 1)) & 0xFFFF_FFFFL;
    }

    private ByteBuffer data(int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    /** A u64 base that leaves room for {@code len} bytes without wrapping. */
    private long base(long len) {
        long v = r.nextLong();
        return Long.compareUnsigned(v, -1L - len) > 0 ? 0 : v;
    }

    Sample next() {
        int kind = r.nextInt(36);
        return switch (kind) {
            case 0 -> new Sample(new Version.Request(r.nextInt(3), r.nextInt(65536), requestCaps()), 0);
            case 1 -> {
                Capabilities c = caps();
                int fds = c.twinSocket().filter(Capabilities.TwinSocket::supported)
                        .map(t -> t.fdIndex().orElse(-1) + 1).orElse(0);
                yield new Sample(new Version.Reply(r.nextInt(3), r.nextInt(65536), c), fds);
            }
            case 2 -> {
                long size = 1 + (r.nextLong() >>> 1);
                int fds = r.nextInt(2);
                long mode = fds == 0 ? 0 : new long[] {0, DmaMap.FLAG_MMAP, DmaMap.FLAG_FILE_IO}[r.nextInt(3)];
                yield new Sample(new DmaMap.Request(32, r.nextInt(4) | mode, r.nextLong(), base(size), size), fds);
            }
            case 3 -> new Sample(new DmaMap.Reply(), 0);
            case 4, 5 -> {
                boolean all = r.nextBoolean();
                long size = all ? 0 : 1 + (r.nextLong() >>> 1);
                long addr = all ? 0 : base(size);
                long argsz = 24 + u32Max(1000);
                long flags = all ? DmaUnmap.FLAG_UNMAP_ALL : 0;
                yield new Sample(kind == 4 ? new DmaUnmap.Request(argsz, flags, addr, size)
                        : new DmaUnmap.Reply(argsz, flags, addr, size), 0);
            }
            case 6 -> new Sample(new DeviceGetInfo.Request(16 + u32Max(1000)), 0);
            case 7 -> new Sample(new DeviceGetInfo.Reply(16 + u32Max(64), u32(), u32(), u32()), 0);
            case 8 -> new Sample(new DeviceGetRegionInfo.Request(32 + u32Max(4096), u32()), 0);
            case 9 -> regionInfoReply();
            case 10 -> new Sample(new DeviceGetRegionIoFds.Request(16 + u32Max(4096), u32()), 0);
            case 11 -> ioFdsReply();
            case 12 -> new Sample(new DeviceGetIrqInfo.Request(16 + u32Max(100), u32()), 0);
            case 13 -> new Sample(new DeviceGetIrqInfo.Reply(16 + u32Max(100), u32(), u32(), u32()), 0);
            case 14 -> setIrqs();
            case 15 -> new Sample(new DeviceSetIrqs.Reply(), 0);
            case 16 -> {
                long count = u32Max(maxData);
                yield new Sample(new RegionRead.Request(base(count), u32(), count), 0);
            }
            case 17 -> new Sample(new RegionRead.Reply(r.nextLong(), u32(), data(maxData)), 0);
            case 18 -> {
                ByteBuffer d = data(maxData);
                yield new Sample(new RegionWrite.Request(base(d.remaining()), u32(), d), 0);
            }
            case 19 -> new Sample(new RegionWrite.Reply(r.nextLong(), u32(), u32Max(maxData)), 0);
            case 20 -> {
                long count = r.nextInt(maxData + 1);
                yield new Sample(new DmaRead.Request(base(count), count), 0);
            }
            case 21 -> new Sample(new DmaRead.Reply(r.nextLong(), data(maxData)), 0);
            case 22 -> {
                ByteBuffer d = data(maxData);
                yield new Sample(new DmaWrite.Request(base(d.remaining()), d), 0);
            }
            case 23 -> new Sample(new DmaWrite.Reply(r.nextLong(), r.nextInt(maxData + 1)), 0);
            case 24 -> new Sample(new DeviceReset.Request(), 0);
            case 25 -> new Sample(new DeviceReset.Reply(), 0);
            case 26 -> {
                List<RegionWriteMulti.Write> ws = new ArrayList<>();
                for (int i = r.nextInt(20); i > 0; i--) {
                    ByteBuffer d = data(8);
                    ws.add(new RegionWriteMulti.Write(base(d.remaining()), u32(), d));
                }
                yield new Sample(new RegionWriteMulti.Request(ws), 0);
            }
            case 27 -> new Sample(new RegionWriteMulti.Reply(r.nextLong()), 0);
            case 28, 29 -> feature(kind == 29);
            case 30 -> {
                long size = u32Max(maxData);
                yield new Sample(new MigDataRead.Request(8 + size + u32Max(100), size), 0);
            }
            case 31 -> new Sample(new MigDataRead.Reply(data(maxData)), 0);
            case 32 -> new Sample(new MigDataWrite.Request(u32(), data(maxData)), 0);
            case 33 -> new Sample(new MigDataWrite.Reply(), 0);
            case 34 -> new Sample(new ErrorReply(r.nextInt(65536), u32()), 0);
            default -> new Sample(new DeviceGetIrqInfo.Reply(16, 0, 0, 0), 0);
        };
    }

    /** Capabilities within their bounds (CapabilityBounds): what a sane peer may send. */
    Capabilities caps() {
        Optional<Capabilities.Migration> mig = r.nextBoolean()
                ? Optional.of(new Capabilities.Migration(4096L << r.nextInt(28), 1 + (r.nextLong() >>> 2)))
                : Optional.empty();
        Optional<Capabilities.TwinSocket> twin = switch (r.nextInt(3)) {
            case 0 -> Optional.empty();
            case 1 -> Optional.of(new Capabilities.TwinSocket(r.nextBoolean(), OptionalInt.empty()));
            default -> Optional.of(new Capabilities.TwinSocket(true, OptionalInt.of(r.nextInt(4))));
        };
        return new Capabilities(r.nextInt(254), 8 + (r.nextLong() >>> 2), 1 + (r.nextLong() >>> 2),
                4096 | ((r.nextLong() >>> 1) & ~4095L), mig, r.nextBoolean(), twin);
    }

    /** As {@link #caps()} without a twin_socket fd_index, which only a reply may carry. */
    Capabilities requestCaps() {
        Capabilities c = caps();
        return c.withTwinSocket(c.twinSocket().map(t -> new Capabilities.TwinSocket(t.supported(),
                OptionalInt.empty())));
    }

    private Sample regionInfoReply() {
        List<RegionInfoCap> caps = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            if (r.nextBoolean()) {
                List<RegionInfoCap.Area> areas = new ArrayList<>();
                for (int a = r.nextInt(5); a > 0; a--) {
                    areas.add(new RegionInfoCap.Area(r.nextLong(), r.nextLong()));
                }
                caps.add(new RegionInfoCap.SparseMmap(areas));
            } else {
                caps.add(new RegionInfoCap.Type(u32(), u32()));
            }
        }
        long flags = u32() & ~DeviceGetRegionInfo.FLAG_CAPS;
        var full = DeviceGetRegionInfo.Reply.full(flags, u32(), r.nextLong(), r.nextLong(), caps);
        var reply = r.nextInt(4) == 0
                ? DeviceGetRegionInfo.Reply.forArgsz(32, flags, full.index(), full.size(), full.offset(), caps)
                : full;
        int fds = (reply.flags() & DeviceGetRegionInfo.FLAG_MMAP) != 0 && !reply.truncated() ? 1 : 0;
        return new Sample(reply, fds);
    }

    private Sample ioFdsReply() {
        List<IoFdSubRegion> subs = new ArrayList<>();
        int fds = 1 + r.nextInt(4);
        for (int i = r.nextInt(6); i > 0; i--) {
            long fdIndex = r.nextInt(fds);
            subs.add(r.nextBoolean()
                    ? new IoFdSubRegion.IoEventFd(r.nextLong(), r.nextLong(), fdIndex, u32(), r.nextLong())
                    : new IoFdSubRegion.IoRegionFd(r.nextLong(), r.nextLong(), fdIndex, u32(), r.nextLong()));
        }
        if (subs.isEmpty() || r.nextInt(4) == 0) {
            return new Sample(new DeviceGetRegionIoFds.Reply(u32(), subs.size(), List.of()), 0);
        }
        return new Sample(DeviceGetRegionIoFds.Reply.full(u32(), subs), fds);
    }

    private Sample setIrqs() {
        long data = 1L << r.nextInt(3);
        long action = DeviceSetIrqs.ACTION_MASK << r.nextInt(3);
        long count = r.nextInt(maxData + 1);
        long start = u32Max(0xFFFF_FFFFL - count);
        int fds = 0;
        ByteBuffer bools = ByteBuffer.allocate(0);
        if (data == DeviceSetIrqs.DATA_BOOL) {
            bools = data((int) count);
            count = bools.remaining();
        } else if (data == DeviceSetIrqs.DATA_EVENTFD) {
            count = r.nextInt(9);
            fds = r.nextBoolean() ? (int) count : 0;
        }
        return new Sample(DeviceSetIrqs.Request.of(data | action, u32(), start, count, bools), fds);
    }

    private Sample feature(boolean reply) {
        int[] features = {DeviceFeature.MIGRATION, DeviceFeature.MIG_DEVICE_STATE, DeviceFeature.DMA_LOGGING_START,
            DeviceFeature.DMA_LOGGING_STOP, DeviceFeature.DMA_LOGGING_REPORT, 3, 0xFFFF};
        long[] ops = {DeviceFeature.GET, DeviceFeature.SET, DeviceFeature.PROBE,
            DeviceFeature.PROBE | DeviceFeature.GET, DeviceFeature.PROBE | DeviceFeature.GET | DeviceFeature.SET};
        long flags = features[r.nextInt(features.length)] | ops[r.nextInt(ops.length)];
        FeatureData d = switch (FeatureData.kindFor(flags, reply)) {
            case NONE -> new FeatureData.None();
            case MIGRATION -> new FeatureData.Migration(r.nextLong());
            case MIG_DEVICE_STATE -> new FeatureData.MigDeviceState(u32Max(7), u32());
            case DMA_LOGGING_START -> {
                List<FeatureData.Range> ranges = new ArrayList<>();
                for (int i = r.nextInt(5); i > 0; i--) {
                    long len = r.nextLong() >>> 1;
                    ranges.add(new FeatureData.Range(base(len), len));
                }
                yield new FeatureData.DmaLoggingStart(r.nextLong(), ranges);
            }
            case DMA_LOGGING_REPORT -> {
                long page = 1L << (12 + r.nextInt(10));
                long len = r.nextInt(1 << 20);
                var head = FeatureData.DmaLoggingReport.request(base(len), len, page);
                yield reply ? new FeatureData.DmaLoggingReport(head.iova(), len, page,
                        randomBytes((int) head.bitmapBytes())) : head;
            }
            case RAW -> new FeatureData.Raw(data(64));
        };
        if (reply) {
            var full = DeviceFeature.Reply.of(flags, d);
            return new Sample(r.nextInt(5) == 0 && d.size() > 0
                    ? DeviceFeature.Reply.forArgsz(8, flags, d) : full, 0);
        }
        return new Sample(new DeviceFeature.Request(8 + u32Max(4096), flags, d), 0);
    }

    private ByteBuffer randomBytes(int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return ByteBuffer.wrap(b);
    }
}
