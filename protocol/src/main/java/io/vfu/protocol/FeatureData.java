package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code data} part of a {@code VFIO_USER_DEVICE_FEATURE} request or reply (spec "Device Features").
 * Which variant a message carries follows from its flags and direction ({@link #kindFor}); features and
 * operations the spec does not define carry {@link Raw} bytes so the server can refuse them itself.
 */
public sealed interface FeatureData {

    int size();

    void write(ByteBuffer out);

    /** No data: probes, GET requests, DMA_LOGGING_STOP, and truncated replies. */
    record None() implements FeatureData {
        @Override
        public int size() {
            return 0;
        }

        @Override
        public void write(ByteBuffer out) {
        }
    }

    /** MIGRATION GET reply: {@code flags u64} (STOP_COPY 1, P2P 2, PRE_COPY 4). */
    record Migration(long flags) implements FeatureData {
        public static final long STOP_COPY = 1;
        public static final long P2P = 2;
        public static final long PRE_COPY = 4;

        @Override
        public int size() {
            return 8;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(flags);
        }
    }

    /** MIG_DEVICE_STATE SET request, and GET/SET reply: {@code device_state u32, data_fd u32}. */
    record MigDeviceState(long deviceState, long dataFd) implements FeatureData {
        public MigDeviceState {
            Checks.u32(deviceState, "device_state");
            Checks.u32(dataFd, "data_fd");
        }

        @Override
        public int size() {
            return 8;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt((int) deviceState).putInt((int) dataFd);
        }
    }

    /** An IOVA range to log. */
    record Range(long iova, long length) {
    }

    /**
     * DMA_LOGGING_START SET request and reply: {@code page_size u64, num_ranges u32, reserved u32}, then
     * {@code iova u64, length u64} per range.
     */
    record DmaLoggingStart(long pageSize, List<Range> ranges) implements FeatureData {
        public DmaLoggingStart {
            ranges = List.copyOf(ranges);
        }

        @Override
        public int size() {
            return 16 + 16 * ranges.size();
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(pageSize).putInt(ranges.size()).putInt(0);
            for (Range r : ranges) {
                out.putLong(r.iova()).putLong(r.length());
            }
        }
    }

    /**
     * DMA_LOGGING_REPORT: {@code iova u64, length u64, page_size u64}, then in the reply the bitmap (u64
     * words, one bit per page; {@link #bitmapBytes} long). The request's bitmap is empty.
     */
    record DmaLoggingReport(long iova, long length, long pageSize, ByteBuffer bitmap) implements FeatureData {
        public DmaLoggingReport {
            bitmap = Bytes.view(bitmap);
        }

        public static DmaLoggingReport request(long iova, long length, long pageSize) {
            return new DmaLoggingReport(iova, length, pageSize, ByteBuffer.allocate(0));
        }

        @Override
        public ByteBuffer bitmap() {
            return Bytes.cursor(bitmap);
        }

        /**
         * Bitmap size in bytes for the range: ceil(length / page_size) bits rounded up to u64 words;
         * {@code Long.MAX_VALUE} if page_size is not a power of two or the size does not fit.
         */
        public long bitmapBytes() {
            if (Long.bitCount(pageSize) != 1) {
                return Long.MAX_VALUE;
            }
            int shift = Long.numberOfTrailingZeros(pageSize);
            long pages = (length >>> shift) + ((length & (pageSize - 1)) != 0 ? 1 : 0);
            long words = (pages >>> 6) + ((pages & 63) != 0 ? 1 : 0);
            return words > Long.MAX_VALUE / 8 ? Long.MAX_VALUE : words * 8;
        }

        @Override
        public int size() {
            return 24 + bitmap.remaining();
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(iova).putLong(length).putLong(pageSize).put(bitmap.duplicate());
        }
    }

    /** Data of a feature or operation the spec does not define, kept verbatim. */
    record Raw(ByteBuffer bytes) implements FeatureData {
        public Raw {
            bytes = Bytes.view(bytes);
        }

        @Override
        public ByteBuffer bytes() {
            return Bytes.cursor(bytes);
        }

        @Override
        public int size() {
            return bytes.remaining();
        }

        @Override
        public void write(ByteBuffer out) {
            out.put(bytes.duplicate());
        }
    }

    /** Which variant the data of a message with these flags has. */
    enum Kind { NONE, MIGRATION, MIG_DEVICE_STATE, DMA_LOGGING_START, DMA_LOGGING_REPORT, RAW }

    static Kind kindFor(long flags, boolean reply) {
        if ((flags & DeviceFeature.PROBE) != 0) {
            return Kind.NONE;
        }
        boolean get = (flags & DeviceFeature.GET) != 0;
        boolean set = (flags & DeviceFeature.SET) != 0;
        return switch ((int) (flags & DeviceFeature.INDEX_MASK)) {
            case DeviceFeature.MIGRATION -> get ? (reply ? Kind.MIGRATION : Kind.NONE) : Kind.RAW;
            case DeviceFeature.MIG_DEVICE_STATE -> set ? Kind.MIG_DEVICE_STATE
                    : (reply ? Kind.MIG_DEVICE_STATE : Kind.NONE);
            case DeviceFeature.DMA_LOGGING_START -> set ? Kind.DMA_LOGGING_START : Kind.RAW;
            case DeviceFeature.DMA_LOGGING_STOP -> set ? Kind.NONE : Kind.RAW;
            case DeviceFeature.DMA_LOGGING_REPORT -> get ? Kind.DMA_LOGGING_REPORT : Kind.RAW;
            default -> Kind.RAW;
        };
    }

    static Kind kindOf(FeatureData d) {
        return switch (d) {
            case None n -> Kind.NONE;
            case Migration m -> Kind.MIGRATION;
            case MigDeviceState s -> Kind.MIG_DEVICE_STATE;
            case DmaLoggingStart s -> Kind.DMA_LOGGING_START;
            case DmaLoggingReport r -> Kind.DMA_LOGGING_REPORT;
            case Raw r -> Kind.RAW;
        };
    }

    /** Decodes {@code len} data bytes at {@code off} as {@code kind}; every count is checked first (EINVAL). */
    static FeatureData read(Payload p, int off, int len, Kind kind, boolean reply) throws MessageException {
        switch (kind) {
            case NONE -> {
                exact(len, 0, "no data");
                return new None();
            }
            case MIGRATION -> {
                exact(len, 8, "MIGRATION");
                return new Migration(p.u64(off));
            }
            case MIG_DEVICE_STATE -> {
                exact(len, 8, "MIG_DEVICE_STATE");
                return new MigDeviceState(p.u32(off), p.u32(off + 4));
            }
            case DMA_LOGGING_START -> {
                if (len < 16) {
                    throw Checks.inval("DEVICE_FEATURE: DMA_LOGGING_START data is " + len + " bytes");
                }
                long n = p.u32(off + 8);
                // Rule: num_ranges matches the bytes present, checked before allocating.
                if (n != (len - 16) / 16 || (len - 16) % 16 != 0) {
                    throw Checks.inval("DEVICE_FEATURE: num_ranges " + n + " does not match " + len + " bytes");
                }
                List<Range> ranges = new ArrayList<>((int) n);
                for (int i = 0; i < n; i++) {
                    Range r = new Range(p.u64(off + 16 + 16 * i), p.u64(off + 24 + 16 * i));
                    Checks.noWrap(r.iova(), r.length(), "DMA_LOGGING_START");
                    ranges.add(r);
                }
                return new DmaLoggingStart(p.u64(off), ranges);
            }
            case DMA_LOGGING_REPORT -> {
                if (len < 24) {
                    throw Checks.inval("DEVICE_FEATURE: DMA_LOGGING_REPORT data is " + len + " bytes");
                }
                DmaLoggingReport head = DmaLoggingReport.request(p.u64(off), p.u64(off + 8), p.u64(off + 16));
                // Rule: page_size is a power of two and the range does not wrap.
                if (Long.bitCount(head.pageSize()) != 1) {
                    throw Checks.inval("DMA_LOGGING_REPORT: page_size is not a power of two");
                }
                Checks.noWrap(head.iova(), head.length(), "DMA_LOGGING_REPORT");
                long bitmap = reply ? head.bitmapBytes() : 0;
                exact(len, 24 + bitmap, "DMA_LOGGING_REPORT");
                return new DmaLoggingReport(head.iova(), head.length(), head.pageSize(),
                        p.bytes(off + 24, (int) bitmap));
            }
            case RAW -> {
                return new Raw(p.bytes(off, len));
            }
            default -> throw new AssertionError(kind);
        }
    }

    private static void exact(long len, long expected, String what) throws MessageException {
        if (len != expected) {
            throw Checks.inval("DEVICE_FEATURE: " + what + " data is " + len + " bytes, expected " + expected);
        }
    }
}
