package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A million random and mutated inputs through header decode, validation and message decode. Only
 * {@link ProtocolException} subtypes may escape; accepted messages (every eighth) must re-encode and
 * re-decode to themselves; and no decode may allocate more than a small multiple of the payload cap (so nothing is sized from
 * a wire count before it is checked against the bytes present).
 */
class FuzzTest {

    static final int CASES = 1_000_000;
    static final Limits LIMITS = new Limits(4096, 2048, 4);
    /** Generous bound for one decode of at most 4 KiB: Jackson's buffers plus the message objects. */
    static final long MAX_ALLOCATION = 512 * 1024;

    static final long[] INTERESTING = {0, 1, 2, 7, 8, 15, 16, 17, 20, 23, 24, 31, 32, 40, 48, 0x7F, 0x80, 0xFF,
        0x100, 0xFFFF, 0x1_0000, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE,
        Long.MIN_VALUE, -1L, -8L, -16L};

    @Test
    void onlyTypedExceptionsAndBoundedAllocation() {
        Random r = new Random(0xF022_2026L);
        List<byte[]> goldens = GoldenDataVectors.everything().stream().map(Golden::bytes).toList();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // The size bound below is the point of the test: a JVM that cannot count must fail it, not skip it.
        assertTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count thread allocation");
        // Warm up: one-time class and Jackson initialisation is not a per-message allocation.
        for (Golden g : GoldenDataVectors.everything()) {
            try {
                Vectors.decode(g.bytes(), g.fdCount(), GoldenTest.LIMITS);
            } catch (ProtocolException e) {
                fail(g + " is valid");
            }
        }
        int accepted = 0;
        int typed = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] in = switch (r.nextInt(5)) {
                case 0 -> flipBits(goldens.get(r.nextInt(goldens.size())), r);
                case 1 -> setField(goldens.get(r.nextInt(goldens.size())), r);
                case 2 -> resize(goldens.get(r.nextInt(goldens.size())), r);
                case 3 -> randomMessage(r, false);
                default -> randomMessage(r, true);
            };
            int fds = r.nextInt(4) == 0 ? r.nextInt(6) : 0;
            long before = mx.getCurrentThreadAllocatedBytes();
            Message m;
            try {
                ByteBuffer b = ByteBuffer.wrap(in);
                Header h = Header.decode(b);
                h.validate(LIMITS.maxMessageSize());
                m = MessageDecoder.decode(h, b, fds, LIMITS);
            } catch (ProtocolException e) {
                typed++;
                continue;
            } catch (Throwable t) {
                fail("case " + i + " input " + Hex.of(ByteBuffer.wrap(in)) + " threw " + t, t);
                return;
            }
            // A size bound, not a per-message budget: what the JIT does or does not scalar-replace is a few
            // hundred bytes; a buffer sized from an unchecked wire count would be megabytes.
            long used = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(used < MAX_ALLOCATION, "case " + i + " allocated " + used + " bytes");
            accepted++;
            // Re-encoding every eighth accepted message keeps the run short and still covers every kind.
            if (!(m instanceof Unknown) && (accepted & 7) == 0) {
                try {
                    Message back = MessageDecoder.decode(MessageEncoder.encode(7, m, 0), fds, LIMITS);
                    assertEquals(m, back, "case " + i);
                } catch (ProtocolException e) {
                    fail("case " + i + ": accepted " + m + " but its encoding is rejected: " + e.getMessage());
                }
            }
        }
        System.out.println("fuzz: accepted " + accepted + ", rejected " + typed + ", cpu ms "
                + mx.getCurrentThreadCpuTime() / 1_000_000);
        assertTrue(accepted > 10_000, "the fuzzer reaches valid messages (" + accepted + ")");
        assertTrue(typed > 10_000, "the fuzzer reaches rejections (" + typed + ")");
    }

    static byte[] flipBits(byte[] g, Random r) {
        byte[] c = g.clone();
        for (int n = 1 + r.nextInt(4); n > 0; n--) {
            int bit = r.nextInt(c.length * 8);
            c[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return c;
    }

    static byte[] setField(byte[] g, Random r) {
        byte[] c = g.clone();
        ByteBuffer b = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
        // Leave the header size alone half the time so the payload decoders see the mutation.
        int lo = r.nextBoolean() ? Header.SIZE : 0;
        if (c.length - lo < 8) {
            return c;
        }
        int at = lo + (r.nextInt((c.length - lo - 4) / 4 + 1) * 4);
        long v = INTERESTING[r.nextInt(INTERESTING.length)] + (r.nextInt(3) - 1);
        if (r.nextBoolean() && at + 8 <= c.length) {
            b.putLong(at, v);
        } else if (at + 4 <= c.length) {
            b.putInt(at, (int) v);
        }
        return c;
    }

    static byte[] resize(byte[] g, Random r) {
        int len = Math.max(Header.SIZE, g.length + r.nextInt(65) - 32);
        byte[] c = java.util.Arrays.copyOf(g, len);
        for (int i = g.length; i < len; i++) {
            c[i] = (byte) r.nextInt(256);
        }
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(4, len);
        return c;
    }

    /** A well-framed message of a random command with a random or structured-looking payload. */
    static byte[] randomMessage(Random r, boolean structured) {
        int len = Header.SIZE + (r.nextInt(64) == 0 ? r.nextInt(4200) : r.nextInt(120));
        byte[] c = new byte[len];
        ByteBuffer b = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
        if (structured) {
            for (int at = Header.SIZE; at + 4 <= len; at += 4) {
                if (r.nextInt(3) == 0) {
                    b.putInt(at, (int) INTERESTING[r.nextInt(INTERESTING.length)]);
                }
            }
        } else {
            r.nextBytes(c);
        }
        int flags = r.nextInt(2) | (r.nextInt(4) == 0 ? Header.FLAG_ERROR : 0) | (r.nextBoolean() ? 0x10 : 0);
        b.putShort(0, (short) r.nextInt(65536)).putShort(2, (short) r.nextInt(20)).putInt(4, len)
                .putInt(8, flags).putInt(12, r.nextInt(4) == 0 ? r.nextInt() : 0);
        return c;
    }
}
