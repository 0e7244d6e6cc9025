package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every length, count and argsz field off by +1 and -1 gets the errno we document, or (where the field is a
 * caller's upper bound) is still accepted. Offsets are from the start of the message (payload starts at 16).
 */
class LengthFieldTest {

    static final Limits LIMITS = GoldenTest.LIMITS;

    /** {@code plus}/{@code minus} null means the changed message is still valid. */
    record Field(String vector, String field, int offset, int width, Errno plus, Errno minus) {
        @Override
        public String toString() {
            return vector + " / " + field;
        }
    }

    static final Errno EINVAL = Errno.EINVAL;

    static List<Field> fields() {
        return List.of(
            new Field("DMA_MAP request", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DMA_UNMAP request", "argsz", 16, 4, null, EINVAL),
            new Field("DMA_UNMAP reply", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_GET_INFO request", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_GET_INFO reply", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_GET_REGION_INFO request", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_GET_REGION_INFO reply, sparse", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_INFO reply, sparse", "cap_offset", 28, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_INFO reply, sparse", "sparse next", 52, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_INFO reply, sparse", "nr_areas", 56, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_IO_FDS request", "argsz", 16, 4, null, null),
            new Field("DEVICE_GET_REGION_IO_FDS reply", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_IO_FDS reply", "count", 28, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_REGION_IO_FDS reply, truncated", "count", 28, 4, EINVAL, EINVAL),
            new Field("DEVICE_GET_IRQ_INFO request", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_GET_IRQ_INFO reply", "argsz", 16, 4, null, EINVAL),
            new Field("DEVICE_SET_IRQS request, eventfd trigger", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_SET_IRQS request, eventfd trigger", "count", 32, 4, EINVAL, EINVAL),
            new Field("DEVICE_SET_IRQS request, bool", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_SET_IRQS request, bool", "count", 32, 4, EINVAL, EINVAL),
            new Field("REGION_READ reply", "count", 28, 4, EINVAL, EINVAL),
            new Field("REGION_WRITE request", "count", 28, 4, EINVAL, EINVAL),
            new Field("DMA_READ reply", "count", 24, 8, EINVAL, EINVAL),
            new Field("DMA_WRITE request", "count", 24, 8, EINVAL, EINVAL),
            new Field("REGION_WRITE_MULTI request", "wr_cnt", 16, 8, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE request, DMA_LOGGING_START", "num_ranges", 32, 4, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE request, DMA_LOGGING_START", "argsz", 16, 4, null, null),
            new Field("DEVICE_FEATURE reply, DMA_LOGGING_START", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE reply, DMA_LOGGING_START", "num_ranges", 32, 4, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE reply, DMA_LOGGING_REPORT", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE reply, GET MIGRATION", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("DEVICE_FEATURE request, probe", "argsz", 16, 4, null, EINVAL),
            new Field("MIG_DATA_READ request", "argsz", 16, 4, null, EINVAL),
            new Field("MIG_DATA_READ request", "size", 20, 4, EINVAL, null),
            new Field("MIG_DATA_READ reply", "argsz", 16, 4, EINVAL, EINVAL),
            new Field("MIG_DATA_READ reply", "size", 20, 4, EINVAL, EINVAL),
            new Field("MIG_DATA_WRITE request", "size", 20, 4, EINVAL, EINVAL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fields")
    void offByOne(Field f) {
        Golden g = Vectors.named(f.vector());
        check(f, g, Vectors.bump(g.bytes(), f.offset(), f.width(), 1), f.plus(), "+1");
        check(f, g, Vectors.bump(g.bytes(), f.offset(), f.width(), -1), f.minus(), "-1");
    }

    private static void check(Field f, Golden g, byte[] wire, Errno expected, String how) {
        if (expected == null) {
            assertDoesNotThrow(() -> Vectors.decode(wire, g.fdCount(), LIMITS), f + " " + how);
        } else {
            Vectors.assertErrno(expected, wire, g.fdCount(), LIMITS);
        }
    }

    /** The header's size field off by one no longer matches the bytes: the frame is broken. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.vfu.protocol.GoldenTest#vectors")
    void headerSizeOffByOneIsAFramingError(Golden g) {
        for (int delta : new int[] {1, -1}) {
            byte[] wire = Vectors.bump(g.bytes(), 4, 4, delta);
            ByteBuffer b = ByteBuffer.wrap(wire);
            assertThrows(FramingException.class, () -> {
                Header h = Header.decode(b);
                MessageDecoder.decode(h, b, g.fdCount(), LIMITS);
            });
        }
    }

    @Test
    void dataCountsAboveMaxDataXferSizeAreE2big() {
        Limits small = new Limits(4096, 4, 1);
        // REGION_READ request asks for 5 bytes with a 4-byte limit.
        Vectors.assertErrno(Errno.E2BIG, Vectors.setU32(Vectors.named("REGION_READ request").bytes(), 28, 5),
                0, small);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("DMA_READ request").bytes(), 0, small);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("DMA_READ reply").bytes(), 0, small);
        Vectors.assertErrno(Errno.E2BIG, Vectors.setU64(Vectors.named("DMA_WRITE reply").bytes(), 24, 5), 0, small);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("MIG_DATA_READ request").bytes(), 0, small);
        Limits tiny = new Limits(4096, 1, 1);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("REGION_WRITE request").bytes(), 0, tiny);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("REGION_READ reply").bytes(), 0, tiny);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("DMA_WRITE request").bytes(), 0, tiny);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("MIG_DATA_WRITE request").bytes(), 0, tiny);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("MIG_DATA_READ reply").bytes(), 0, tiny);
        Vectors.assertErrno(Errno.E2BIG, Vectors.named("REGION_WRITE reply").bytes(), 0, tiny);
    }

    @Test
    void hugeCountsAreRejectedBeforeAnythingIsAllocated() {
        // u64 counts near 2^64 must neither overflow the length arithmetic nor reach an allocation.
        Vectors.assertErrno(Errno.E2BIG, Vectors.setU64(Vectors.named("DMA_WRITE request").bytes(), 24, -1L), 0,
                LIMITS);
        Vectors.assertErrno(Errno.EINVAL,
                Vectors.setU64(Vectors.named("REGION_WRITE_MULTI request").bytes(), 16, -1L), 0, LIMITS);
        Vectors.assertErrno(Errno.EINVAL,
                Vectors.setU32(Vectors.named("DEVICE_GET_REGION_INFO reply, sparse").bytes(), 56, 0xFFFF_FFFFL),
                1, LIMITS);
        Vectors.assertErrno(Errno.EINVAL,
                Vectors.setU32(Vectors.named("DEVICE_GET_REGION_IO_FDS reply").bytes(), 28, 0xFFFF_FFFFL), 2,
                LIMITS);
        Vectors.assertErrno(Errno.E2BIG,
                Vectors.setU32(Vectors.named("REGION_WRITE request").bytes(), 28, 0xFFFF_FFFFL), 0, LIMITS);
    }
}
