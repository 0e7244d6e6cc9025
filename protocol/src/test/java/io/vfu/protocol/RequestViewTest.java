package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-place request views ({@link RegionRead.RequestView}, {@link RegionWrite.RequestView},
 * {@link RegionWriteMulti.RequestView}) and the decoder, which builds its records from those views. Since the
 * two share their code, neither is checked against the other: both are checked against the golden vectors'
 * hand-written records, and against a seeded stream of mutations whose expected outcome this test derives on
 * its own from the spec's layout tables. The payload sits at a non-zero position inside a larger buffer of
 * either byte order.
 */
class RequestViewTest {

    private static final Limits LIMITS = new Limits(4096, 2048, 4);
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** Every REGION_READ, REGION_WRITE and REGION_WRITE_MULTI request vector. */
    static Stream<Golden> regionRequests() {
        return GoldenDataVectors.everything().stream().filter(g -> g.expected() instanceof RegionRead.Request
                || g.expected() instanceof RegionWrite.Request || g.expected() instanceof RegionWriteMulti.Request);
    }

    @Test
    void everyRegionRequestKindHasAGoldenVector() {
        assertEquals(List.of(RegionRead.Request.class, RegionWrite.Request.class, RegionWriteMulti.Request.class),
                regionRequests().map(g -> g.expected().getClass()).distinct().toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regionRequests")
    void viewAndDecoderGiveTheVectorsFields(Golden g) throws Exception {
        byte[] wire = g.bytes();
        for (int at : new int[] {0, 3, 5, 11}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                String where = g + " at " + at + ", " + order;
                ByteBuffer p = payloadAt(wire, at, order);
                Header h = Header.decode(ByteBuffer.wrap(wire));
                assertEquals(g.expected(), MessageDecoder.decode(h, p, g.fdCount(), LIMITS), where);
                assertViewGives(g.expected(), p, where);
                assertEquals(at, p.position(), "neither wrap nor decode moves the position: " + where);
                assertEquals(at + wire.length - Header.SIZE, p.limit(), where);
            }
        }
    }

    /** The view's fields, read from {@code p}, equal the record's; data is read where the view says it is. */
    private static void assertViewGives(Message expected, ByteBuffer p, String where) throws MessageException {
        int start = p.position();
        switch (expected) {
            case RegionRead.Request r -> {
                RegionRead.RequestView v = new RegionRead.RequestView().wrap(p, 0, LIMITS);
                assertEquals(r.offset(), v.offset(), where);
                assertEquals(r.region(), v.region(), where);
                assertEquals(r.count(), v.count(), where);
            }
            case RegionWrite.Request r -> {
                RegionWrite.RequestView v = new RegionWrite.RequestView().wrap(p, 0, LIMITS);
                assertEquals(r.offset(), v.offset(), where);
                assertEquals(r.region(), v.region(), where);
                assertEquals(r.count(), v.count(), where);
                // Spec layout: the data follows the 16-byte offset/region/count part.
                assertEquals(start + 16, v.dataPosition(), where);
                assertArrayEquals(bytes(r.data()), slice(p, v.dataPosition(), v.count()), where);
            }
            case RegionWriteMulti.Request r -> {
                RegionWriteMulti.RequestView v = new RegionWriteMulti.RequestView().wrap(p, 0);
                assertEquals(r.writes().size(), v.count(), where);
                for (int i = 0; i < v.count(); i++) {
                    RegionWriteMulti.Write w = r.writes().get(i);
                    assertEquals(w.offset(), v.offset(i), where + " write " + i);
                    assertEquals(w.region(), v.region(i), where + " write " + i);
                    assertEquals(w.count(), v.dataCount(i), where + " write " + i);
                    // Spec layout: wr_cnt u64, then 24-byte entries whose data starts 16 bytes in.
                    assertEquals(start + 8 + 24 * i + 16, v.dataPosition(i), where + " write " + i);
                    assertArrayEquals(bytes(w.data()), slice(p, v.dataPosition(i), v.dataCount(i)), where);
                }
            }
            default -> throw new AssertionError("not a region request vector: " + where);
        }
    }

    @Test
    void readAndWriteFollowTheSpecLayoutOnMutatedInputs() throws Exception {
        Random r = new Random(0x5EEDL);
        byte[][] seeds = {Vectors.named("REGION_READ request").bytes(),
            Vectors.named("REGION_WRITE request, posted").bytes()};
        RegionRead.RequestView read = new RegionRead.RequestView();
        RegionWrite.RequestView write = new RegionWrite.RequestView();
        Map<Errno, Integer> refused = new EnumMap<>(Errno.class);
        int accepted = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] wire = mutate(seeds[i & 1], r);
            int fds = r.nextInt(10) == 0 ? 1 : 0;
            boolean isRead = (i & 1) == 0;
            Expected want = isRead ? readOracle(wire, fds) : writeOracle(wire, fds);
            String what = Hex.of(ByteBuffer.wrap(wire)) + " with " + fds + " fds";
            ByteBuffer p = payloadAt(wire, r.nextInt(9), r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            Header h = Header.decode(ByteBuffer.wrap(wire));
            if (want.errno() != null) {
                refused.merge(want.errno(), 1, Integer::sum);
                assertEquals(want.errno(), assertThrows(MessageException.class,
                        () -> MessageDecoder.decode(h, p, fds, LIMITS), "decoder: " + what).errno(), what);
                assertEquals(want.errno(), assertThrows(MessageException.class, () -> {
                    if (isRead) {
                        read.wrap(p, fds, LIMITS);
                    } else {
                        write.wrap(p, fds, LIMITS);
                    }
                }, "view: " + what).errno(), what);
                continue;
            }
            accepted++;
            Message decoded = MessageDecoder.decode(h, p, fds, LIMITS);
            if (isRead) {
                assertEquals(new RegionRead.Request(want.offset(), want.region(), want.count()), decoded, what);
                read.wrap(p, fds, LIMITS);
                assertEquals(want.offset(), read.offset(), what);
                assertEquals(want.region(), read.region(), what);
                assertEquals(want.count(), read.count(), what);
            } else {
                assertEquals(new RegionWrite.Request(want.offset(), want.region(), ByteBuffer.wrap(want.data())),
                        decoded, what);
                write.wrap(p, fds, LIMITS);
                assertEquals(want.offset(), write.offset(), what);
                assertEquals(want.region(), write.region(), what);
                assertEquals(want.count(), write.count(), what);
                assertArrayEquals(want.data(), slice(p, write.dataPosition(), write.count()), what);
            }
        }
        // The mutations must reach every outcome in quantity, or the agreement above proves little.
        int refusals = refused.values().stream().mapToInt(Integer::intValue).sum();
        assertTrue(accepted > 20_000 && refusals > 20_000, "accepted " + accepted + ", refused " + refused);
        assertTrue(refused.getOrDefault(Errno.E2BIG, 0) > 1_000, "E2BIG reached: " + refused);
    }

    @Test
    void writeMultiFollowsTheSpecLayoutOnMutatedInputs() throws Exception {
        Random r = new Random(0x3017L);
        byte[] seed = Vectors.named("REGION_WRITE_MULTI request").bytes();
        RegionWriteMulti.RequestView view = new RegionWriteMulti.RequestView();
        int accepted = 0;
        int refused = 0;
        int multiEntry = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] wire = mutateMulti(seed, r);
            int fds = r.nextInt(10) == 0 ? 1 : 0;
            List<Entry> want = multiOracle(wire, fds);
            String what = Hex.of(ByteBuffer.wrap(wire)) + " with " + fds + " fds";
            ByteBuffer p = payloadAt(wire, r.nextInt(9), r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            Header h = Header.decode(ByteBuffer.wrap(wire));
            if (want == null) {
                refused++;
                // Every WRITE_MULTI refusal is EINVAL: the entries carry at most 8 bytes, never beyond the xfer size.
                assertEquals(Errno.EINVAL, assertThrows(MessageException.class,
                        () -> MessageDecoder.decode(h, p, fds, LIMITS), "decoder: " + what).errno(), what);
                assertEquals(Errno.EINVAL, assertThrows(MessageException.class, () -> view.wrap(p, fds),
                        "view: " + what).errno(), what);
                continue;
            }
            accepted++;
            multiEntry += want.size() > 1 ? 1 : 0;
            List<RegionWriteMulti.Write> writes = new ArrayList<>();
            for (Entry e : want) {
                writes.add(new RegionWriteMulti.Write(e.offset(), e.region(), ByteBuffer.wrap(e.data())));
            }
            assertEquals(new RegionWriteMulti.Request(writes), MessageDecoder.decode(h, p, fds, LIMITS), what);
            view.wrap(p, fds);
            assertEquals(want.size(), view.count(), what);
            for (int w = 0; w < view.count(); w++) {
                assertEquals(want.get(w).offset(), view.offset(w), what);
                assertEquals(want.get(w).region(), view.region(w), what);
                assertArrayEquals(want.get(w).data(), slice(p, view.dataPosition(w), view.dataCount(w)), what);
            }
        }
        assertTrue(accepted > 10_000 && refused > 10_000, "accepted " + accepted + ", refused " + refused);
        assertTrue(multiEntry > 1_000, "accepted requests of several writes: " + multiEntry);
    }

    /** What a request must decode to, written from the spec's tables: an errno, or the fields and data. */
    private record Expected(Errno errno, long offset, long region, long count, byte[] data) {

        static Expected refused(Errno errno) {
            return new Expected(errno, 0, 0, 0, null);
        }
    }

    /** One REGION_WRITE_MULTI entry as the spec lays it out. */
    private record Entry(long offset, long region, byte[] data) {
    }

    /**
     * Spec "VFIO_USER_REGION_READ": the request is {@code offset u64 | region u32 | count u32}, 16 bytes and no
     * fds. Our errno precedence: a malformed payload is EINVAL before its count is judged; a count beyond
     * max_data_xfer_size is E2BIG; a range whose end ({@code offset + count}) does not fit in a u64 is EINVAL.
     */
    private static Expected readOracle(byte[] wire, int fds) {
        ByteBuffer w = ByteBuffer.wrap(wire).order(ByteOrder.LITTLE_ENDIAN);
        if (wire.length - Header.SIZE != 16 || fds != 0) {
            return Expected.refused(Errno.EINVAL);
        }
        long offset = w.getLong(16);
        long region = Integer.toUnsignedLong(w.getInt(24));
        long count = Integer.toUnsignedLong(w.getInt(28));
        if (count > LIMITS.maxDataXferSize()) {
            return Expected.refused(Errno.E2BIG);
        }
        if (endBeyondU64(offset, count)) {
            return Expected.refused(Errno.EINVAL);
        }
        return new Expected(null, offset, region, count, null);
    }

    /**
     * Spec "VFIO_USER_REGION_WRITE": {@code offset u64 | region u32 | count u32 | data[count]}, no fds. Our errno
     * precedence: a payload shorter than the 16 fixed bytes is EINVAL; a count beyond max_data_xfer_size is E2BIG
     * whatever follows; then the payload must hold exactly count data bytes, and the range must end within a u64.
     */
    private static Expected writeOracle(byte[] wire, int fds) {
        ByteBuffer w = ByteBuffer.wrap(wire).order(ByteOrder.LITTLE_ENDIAN);
        int payload = wire.length - Header.SIZE;
        if (payload < 16 || fds != 0) {
            return Expected.refused(Errno.EINVAL);
        }
        long count = Integer.toUnsignedLong(w.getInt(28));
        if (count > LIMITS.maxDataXferSize()) {
            return Expected.refused(Errno.E2BIG);
        }
        long offset = w.getLong(16);
        if (payload != 16 + count || endBeyondU64(offset, count)) {
            return Expected.refused(Errno.EINVAL);
        }
        return new Expected(null, offset, Integer.toUnsignedLong(w.getInt(24)), count,
                Arrays.copyOfRange(wire, 32, wire.length));
    }

    /**
     * Spec "VFIO_USER_REGION_WRITE_MULTI": {@code wr_cnt u64}, then wr_cnt entries of
     * {@code offset u64 | region u32 | count u32 | data[8]}, of which the first count (at most 8) bytes are
     * written; no fds. wr_cnt must match the entries the payload holds, and each range must end within a u64.
     * Returns the entries, or null for EINVAL.
     */
    private static List<Entry> multiOracle(byte[] wire, int fds) {
        ByteBuffer w = ByteBuffer.wrap(wire).order(ByteOrder.LITTLE_ENDIAN);
        int payload = wire.length - Header.SIZE;
        if (payload < 8 || fds != 0 || (payload - 8) % 24 != 0) {
            return null;
        }
        long wrCnt = w.getLong(16);
        if (wrCnt != (payload - 8) / 24) {
            return null; // a u64 matching a small non-negative int: a "negative" wr_cnt never does
        }
        List<Entry> entries = new ArrayList<>();
        for (int e = Header.SIZE + 8; e < wire.length; e += 24) {
            long offset = w.getLong(e);
            long count = Integer.toUnsignedLong(w.getInt(e + 12));
            if (count > 8 || endBeyondU64(offset, count)) {
                return null;
            }
            entries.add(new Entry(offset, Integer.toUnsignedLong(w.getInt(e + 8)),
                    Arrays.copyOfRange(wire, e + 16, e + 16 + (int) count)));
        }
        return entries;
    }

    /** Whether {@code offset + count}, both unsigned, exceeds 2^64 - 1 (computed without wrapping). */
    private static boolean endBeyondU64(long offset, long count) {
        return new BigInteger(Long.toUnsignedString(offset)).add(BigInteger.valueOf(count)).compareTo(U64_MAX) > 0;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static byte[] slice(ByteBuffer b, int at, int n) {
        byte[] a = new byte[n];
        b.get(at, a);
        return a;
    }

    /** A WRITE_MULTI with wr_cnt, an entry's count or offset set to an edge, or entries added/cut. */
    private static byte[] mutateMulti(byte[] seed, Random r) {
        byte[] w = seed.clone();
        ByteBuffer b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
        int entry = 24 + 24 * r.nextInt(2);
        switch (r.nextInt(6)) {
            case 0 -> b.putLong(16, new long[] {0, 1, 2, 3, -1L, 1L << 32}[r.nextInt(6)]);
            case 1 -> b.putInt(entry + 12, (int) new long[] {0, 1, 7, 8, 9, 16, 0xFFFF_FFFFL}[r.nextInt(7)]);
            // -5 and -2: the last offsets whose 4-byte and 1-byte writes end exactly at 2^64 - 1
            case 2 -> b.putLong(entry, new long[] {0, -1L, -2L, -5L, -8L, -9L, Long.MIN_VALUE}[r.nextInt(7)]);
            case 3 -> {
                // whole entries added (zeroed) or cut, wr_cnt kept in step or not
                int entries = r.nextInt(5);
                w = Arrays.copyOf(w, 24 + 24 * entries);
                b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(4, w.length).putLong(16, r.nextBoolean() ? entries : 2);
            }
            case 4 -> {
                int len = Math.max(16, w.length + r.nextInt(9) - 4);
                w = Arrays.copyOf(w, len);
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(4, len);
            }
            default -> {
                // unchanged
            }
        }
        return w;
    }

    /** The message's payload copied to position {@code at} of a larger buffer with garbage around it. */
    private static ByteBuffer payloadAt(byte[] wire, int at, ByteOrder order) {
        int len = wire.length - Header.SIZE;
        byte[] big = new byte[at + len + 7];
        Arrays.fill(big, (byte) 0xA5);
        System.arraycopy(wire, Header.SIZE, big, at, len);
        return ByteBuffer.wrap(big).order(order).position(at).limit(at + len);
    }

    /** A copy with one field set to an interesting value, or the length changed (header size kept in step). */
    private static byte[] mutate(byte[] seed, Random r) {
        byte[] w = seed.clone();
        switch (r.nextInt(6)) {
            case 0 -> {
                long[] counts = {0, 1, 2, 3, 4, 8, 2047, 2048, 2049, 4096, 0xFFFF_FFFFL};
                w = Vectors.setU32(w, 28, counts[r.nextInt(counts.length)]);
            }
            case 1 -> {
                // -3 and -5: the last offsets whose 2-byte write and 4-byte read end exactly at 2^64 - 1
                long[] offsets = {0, 4, -1L, -2L, -3L, -4L, -5L, Long.MIN_VALUE, 0x7FFF_FFFF_FFFF_FFFFL};
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putLong(16, offsets[r.nextInt(offsets.length)]);
            }
            case 2 -> w = Vectors.setU32(w, 24, r.nextInt(3) == 0 ? 0xFFFF_FFFFL : r.nextInt(12));
            case 3 -> {
                int len = Math.max(16, w.length + r.nextInt(9) - 4);
                w = Arrays.copyOf(w, len);
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(4, len);
            }
            case 4 -> {
                // count matching a grown payload: a valid write of more data (or a bad read)
                int extra = r.nextInt(40);
                w = Arrays.copyOf(w, w.length + extra);
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(4, w.length).putInt(28, w.length - 32);
            }
            default -> {
                // unchanged
            }
        }
        return w;
    }
}
