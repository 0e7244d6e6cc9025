package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The in-place request views ({@link RegionRead.RequestView}, {@link RegionWrite.RequestView}) serve the hot
 * path instead of the decoder, so they must agree with it on every input: same fields for what the decoder
 * accepts, the same errno for what it refuses. Checked on the spec's golden vectors and on a seeded stream of
 * mutations (lengths, counts, offsets near 2^64, fds), with the payload placed at a non-zero position inside a
 * larger buffer of either byte order.
 */
class RequestViewTest {

    private static final Limits LIMITS = new Limits(4096, 2048, 4);

    @Test
    void goldenRegionReadRequestGivesTheSpecFields() throws Exception {
        byte[] wire = Vectors.named("REGION_READ request").bytes();
        RegionRead.RequestView v = new RegionRead.RequestView().wrap(payloadAt(wire, 5, ByteOrder.BIG_ENDIAN), 0,
                LIMITS);
        // The vector: offset 0x10, region 7, count 4 (spec "VFIO_USER_REGION_READ").
        assertEquals(0x10, v.offset());
        assertEquals(7, v.region());
        assertEquals(4, v.count());
    }

    @Test
    void goldenRegionWriteRequestGivesTheSpecFieldsAndData() throws Exception {
        byte[] wire = Vectors.named("REGION_WRITE request, posted").bytes();
        ByteBuffer p = payloadAt(wire, 3, ByteOrder.LITTLE_ENDIAN);
        int start = p.position();
        RegionWrite.RequestView v = new RegionWrite.RequestView().wrap(p, 0, LIMITS);
        assertEquals(4, v.offset());
        assertEquals(7, v.region());
        assertEquals(2, v.count());
        assertEquals(start + 16, v.dataPosition());
        assertEquals(6, p.get(v.dataPosition()));
        assertEquals(0, p.get(v.dataPosition() + 1));
        assertEquals(start, p.position(), "wrap leaves the position alone");
    }

    @Test
    void viewsAgreeWithTheDecoderOnMutatedInputs() throws Exception {
        Random r = new Random(0x5EEDL);
        byte[][] seeds = {Vectors.named("REGION_READ request").bytes(),
            Vectors.named("REGION_WRITE request, posted").bytes()};
        RegionRead.RequestView read = new RegionRead.RequestView();
        RegionWrite.RequestView write = new RegionWrite.RequestView();
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] wire = mutate(seeds[i & 1], r);
            int fds = r.nextInt(10) == 0 ? 1 : 0;
            Header h = Header.decode(ByteBuffer.wrap(wire));
            Message expected = null;
            Errno expectedErrno = null;
            try {
                expected = MessageDecoder.decode(h, ByteBuffer.wrap(wire, 16, wire.length - 16), fds, LIMITS);
            } catch (MessageException e) {
                expectedErrno = e.errno();
            } catch (ProtocolException e) {
                continue; // framing: never reaches a view (the transport closes the stream first)
            }
            ByteBuffer p = payloadAt(wire, r.nextInt(9), r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            Errno got = null;
            try {
                if (h.command() == Command.REGION_READ.code()) {
                    read.wrap(p, fds, LIMITS);
                    RegionRead.Request d = (RegionRead.Request) expected;
                    assertEquals(new RegionRead.Request(read.offset(), read.region(), read.count()), d);
                } else {
                    write.wrap(p, fds, LIMITS);
                    RegionWrite.Request d = (RegionWrite.Request) expected;
                    assertEquals(d.offset(), write.offset());
                    assertEquals(d.region(), write.region());
                    byte[] data = new byte[write.count()];
                    p.get(write.dataPosition(), data);
                    byte[] want = new byte[d.data().remaining()];
                    d.data().get(want);
                    assertArrayEquals(want, data);
                }
                accepted++;
            } catch (MessageException e) {
                got = e.errno();
                refused++;
            }
            if (expectedErrno == null) {
                assertNull(got, () -> "view refused what the decoder accepts: " + Hex.of(ByteBuffer.wrap(wire)));
            } else {
                assertEquals(expectedErrno, got, () -> "errno differs for " + Hex.of(ByteBuffer.wrap(wire)));
            }
        }
        // The mutations must exercise both outcomes in quantity, or the agreement above proves little.
        assertEquals(true, accepted > 20_000 && refused > 20_000, "accepted " + accepted + ", refused " + refused);
    }

    @Test
    void goldenRegionWriteMultiRequestGivesTheSpecEntries() throws Exception {
        byte[] wire = Vectors.named("REGION_WRITE_MULTI request").bytes();
        ByteBuffer p = payloadAt(wire, 11, ByteOrder.BIG_ENDIAN);
        RegionWriteMulti.RequestView v = new RegionWriteMulti.RequestView().wrap(p, 0);
        // The vector: [0] offset 0x100, region 0, 4 bytes 78 56 34 12; [1] offset 8, region 2, 1 byte ff.
        assertEquals(2, v.count());
        assertEquals(0x100, v.offset(0));
        assertEquals(0, v.region(0));
        assertEquals(4, v.dataCount(0));
        assertEquals(0x78, p.get(v.dataPosition(0)));
        assertEquals(0x12, p.get(v.dataPosition(0) + 3));
        assertEquals(8, v.offset(1));
        assertEquals(2, v.region(1));
        assertEquals(1, v.dataCount(1));
        assertEquals((byte) 0xff, p.get(v.dataPosition(1)));
    }

    @Test
    void writeMultiViewAgreesWithTheDecoderOnMutatedInputs() throws Exception {
        Random r = new Random(0x3017L);
        byte[] seed = Vectors.named("REGION_WRITE_MULTI request").bytes();
        RegionWriteMulti.RequestView view = new RegionWriteMulti.RequestView();
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] wire = mutateMulti(seed, r);
            int fds = r.nextInt(10) == 0 ? 1 : 0;
            Header h = Header.decode(ByteBuffer.wrap(wire));
            RegionWriteMulti.Request expected = null;
            Errno expectedErrno = null;
            try {
                expected = (RegionWriteMulti.Request) MessageDecoder.decode(h,
                        ByteBuffer.wrap(wire, 16, wire.length - 16), fds, LIMITS);
            } catch (MessageException e) {
                expectedErrno = e.errno();
            }
            ByteBuffer p = payloadAt(wire, r.nextInt(9), r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            try {
                view.wrap(p, fds);
                accepted++;
                assertNull(expectedErrno, () -> "view accepted what the decoder refuses: " + Hex.of(ByteBuffer.wrap(wire)));
                assertEquals(expected.writes().size(), view.count());
                for (int w = 0; w < view.count(); w++) {
                    RegionWriteMulti.Write d = expected.writes().get(w);
                    assertEquals(d.offset(), view.offset(w));
                    assertEquals(d.region(), view.region(w));
                    byte[] want = new byte[d.data().remaining()];
                    d.data().get(want);
                    byte[] got = new byte[view.dataCount(w)];
                    p.get(view.dataPosition(w), got);
                    assertArrayEquals(want, got);
                }
            } catch (MessageException e) {
                refused++;
                assertEquals(expectedErrno, e.errno(), () -> "errno differs for " + Hex.of(ByteBuffer.wrap(wire)));
            }
        }
        assertEquals(true, accepted > 10_000 && refused > 10_000, "accepted " + accepted + ", refused " + refused);
    }

    /** A WRITE_MULTI with wr_cnt, an entry's count or offset set to an edge, or entries added/cut. */
    private static byte[] mutateMulti(byte[] seed, Random r) {
        byte[] w = seed.clone();
        ByteBuffer b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
        int entry = 24 + 24 * r.nextInt(2);
        switch (r.nextInt(6)) {
            case 0 -> b.putLong(16, new long[] {0, 1, 2, 3, -1L, 1L << 32}[r.nextInt(6)]);
            case 1 -> b.putInt(entry + 12, (int) new long[] {0, 1, 7, 8, 9, 16, 0xFFFF_FFFFL}[r.nextInt(7)]);
            case 2 -> b.putLong(entry, new long[] {0, -1L, -8L, -9L, Long.MIN_VALUE}[r.nextInt(5)]);
            case 3 -> {
                // whole entries added (zeroed) or cut, wr_cnt kept in step or not
                int entries = r.nextInt(5);
                w = java.util.Arrays.copyOf(w, 24 + 24 * entries);
                b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(4, w.length).putLong(16, r.nextBoolean() ? entries : 2);
            }
            case 4 -> {
                int len = Math.max(16, w.length + r.nextInt(9) - 4);
                w = java.util.Arrays.copyOf(w, len);
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
        java.util.Arrays.fill(big, (byte) 0xA5);
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
                long[] offsets = {0, 4, -1L, -2L, -4L, Long.MIN_VALUE, 0x7FFF_FFFF_FFFF_FFFFL};
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putLong(16, offsets[r.nextInt(offsets.length)]);
            }
            case 2 -> w = Vectors.setU32(w, 24, r.nextInt(3) == 0 ? 0xFFFF_FFFFL : r.nextInt(12));
            case 3 -> {
                int len = Math.max(16, w.length + r.nextInt(9) - 4);
                w = java.util.Arrays.copyOf(w, len);
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(4, len);
            }
            case 4 -> {
                // count matching a grown payload: a valid write of more data (or a bad read)
                int extra = r.nextInt(40);
                w = java.util.Arrays.copyOf(w, w.length + extra);
                ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(4, w.length).putInt(28, w.length - 32);
            }
            default -> {
                // unchanged
            }
        }
        return w;
    }
}
