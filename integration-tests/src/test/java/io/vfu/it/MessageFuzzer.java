package io.vfu.it;

import static io.vfu.it.WireMessages.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * Random vfio-user messages from one seeded {@link Random}: a well-formed message of any command the spec
 * defines (and unknown ones, server commands, replies sent as commands), with fields drawn near the device's
 * real limits so that many are valid, then optionally mutated the way broken or hostile peers break them: bit
 * flips, truncation, a header {@code size} that lies, inner length fields ({@code argsz}, counts) off by one or
 * huge, wrong type and flag bits, trailing junk.
 */
final class MessageFuzzer {

    /** u32 values that sit on a boundary somewhere. */
    private static final long[] EDGES = {0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 19, 20, 21, 23, 24, 31, 32, 33, 255, 256,
            4095, 4096, 65535, 65536, 0x10_0000, 0x10_0001, 0x10_1000, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFEL,
            0xFFFF_FFFFL};

    private final Random random;
    private int nextId;

    MessageFuzzer(Random random) {
        this.random = random;
        this.nextId = random.nextInt(0x8000);
    }

    int nextId() {
        return nextId++ & 0xFFFF;
    }

    /** A well-formed command (the server may still refuse it: values are random), or a reply posing as one. */
    byte[] anyCommand() {
        int pick = random.nextInt(24);
        int flags = random.nextInt(6) == 0 ? NO_REPLY : 0;
        return switch (pick) {
            case 0 -> message(nextId(), VERSION, flags, version(random.nextInt(3) == 0 ? random.nextInt(3) : 0,
                    random.nextInt(3), random.nextBoolean() ? QEMU_CAPABILITIES : junkJson(), random.nextInt(8) != 0));
            case 1, 2 -> message(nextId(), DMA_MAP, flags, dmaMap(random.nextInt(4), page() * random.nextInt(4),
                    address(), size()));
            case 3 -> message(nextId(), DMA_UNMAP, flags, dmaUnmap(random.nextInt(4) == 0 ? UNMAP_ALL : 0,
                    address(), size()));
            case 4 -> message(nextId(), DEVICE_GET_INFO, flags, getInfo((int) edge()));
            case 5 -> message(nextId(), DEVICE_GET_REGION_INFO, flags, regionInfo(
                    random.nextBoolean() ? 32 : (int) edge(), region()));
            case 6 -> message(nextId(), DEVICE_GET_REGION_IO_FDS, flags, regionIoFds(
                    random.nextBoolean() ? 16 : (int) edge(), region()));
            case 7 -> message(nextId(), DEVICE_GET_IRQ_INFO, flags, irqInfo(random.nextInt(7)));
            case 8, 9 -> message(nextId(), DEVICE_SET_IRQS, flags, setIrqs());
            case 10, 11, 12 -> message(nextId(), REGION_READ, flags, regionRead(region(), offset(), count()));
            case 13, 14, 15 -> message(nextId(), REGION_WRITE, flags, regionWrite(region(), offset(),
                    bytes(count() & 0xFFF)));
            case 16 -> message(nextId(), REGION_WRITE_MULTI, flags, writeMulti());
            case 17 -> message(nextId(), DEVICE_RESET, flags, new byte[0]);
            case 18 -> message(nextId(), DEVICE_FEATURE, flags, deviceFeature((int) edge(),
                    random.nextInt(9) | (1 << (16 + random.nextInt(3))), bytes(random.nextInt(32))));
            case 19 -> message(nextId(), random.nextBoolean() ? MIG_DATA_READ : MIG_DATA_WRITE, flags,
                    migData((int) edge(), (int) edge(), bytes(random.nextInt(64))));
            case 20 -> message(nextId(), random.nextBoolean() ? DMA_READ : DMA_WRITE, flags,
                    dmaAccess(address(), random.nextInt(64), bytes(random.nextInt(64))));
            case 21 -> message(nextId(), unknownCommand(), flags, bytes(random.nextInt(64)));
            case 22 -> message(nextId(), random.nextInt(20), TYPE_REPLY | (random.nextBoolean() ? ERROR : 0),
                    bytes(random.nextInt(64)));
            default -> message(nextId(), REGION_READ, flags, regionRead(DeviceLayout.CONFIG, 0, 4));
        };
    }

    /** {@code m} broken in one to three ways (a new array; {@code m} is left alone). */
    byte[] mutate(byte[] m) {
        byte[] out = m.clone();
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
            out = mutateOnce(out);
        }
        return out;
    }

    private byte[] mutateOnce(byte[] m) {
        if (m.length == 0) {
            return bytes(random.nextInt(HEADER + 1));
        }
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        // Rule: header fields are rewritten only when a whole header is there; a stub only gets flips, cuts, junk.
        int kind = m.length >= HEADER ? random.nextInt(7) : new int[] {0, 1, 5}[random.nextInt(3)];
        switch (kind) {
            case 0 -> { // bit flips anywhere
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    int bit = random.nextInt(m.length * 8);
                    m[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 1 -> { // truncated: the header still promises the whole message
                return Arrays.copyOf(m, random.nextInt(m.length));
            }
            case 2 -> { // the header's size lies
                long size = b.getInt(4) & 0xFFFF_FFFFL;
                long[] lies = {size - 1, size + 1, 0, 15, 16, 0xFFFF_FFFFL, (1L << 20) + 4097, edge(), size * 2};
                b.putInt(4, (int) lies[random.nextInt(lies.length)]);
            }
            case 3 -> { // an inner length or count field off by one, or huge
                if (m.length >= HEADER + 4) {
                    int at = HEADER + 4 * random.nextInt(Math.min(8, (m.length - HEADER) / 4));
                    long v = b.getInt(at) & 0xFFFF_FFFFL;
                    long[] lies = {v - 1, v + 1, 0, edge(), 0xFFFF_FFFFL};
                    b.putInt(at, (int) lies[random.nextInt(lies.length)]);
                }
            }
            case 4 -> { // type and flag bits: reply, error, unknown type, No_reply, with a random errno
                int[] flags = {TYPE_REPLY, TYPE_REPLY | ERROR, ERROR, NO_REPLY | ERROR, 2, 0xF, random.nextInt()};
                b.putInt(8, flags[random.nextInt(flags.length)]).putInt(12, random.nextInt(4) == 0 ? random.nextInt() : 0);
            }
            case 5 -> { // trailing junk, counted in the size or not
                byte[] longer = Arrays.copyOf(m, m.length + 1 + random.nextInt(64));
                if (random.nextBoolean() && longer.length >= HEADER) {
                    ByteBuffer.wrap(longer).order(ByteOrder.LITTLE_ENDIAN).putInt(4, longer.length);
                }
                return longer;
            }
            default -> { // a different command number on the same payload
                if (m.length >= 4) {
                    b.putShort(2, (short) random.nextInt(20));
                }
            }
        }
        return m;
    }

    /** Random bytes: pure noise, or noise that starts with a plausible header. */
    byte[] garbage(int max) {
        byte[] g = bytes(random.nextInt(max + 1));
        if (g.length >= HEADER && random.nextBoolean()) {
            ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putShort(2, (short) (1 + random.nextInt(18)))
                    .putInt(4, random.nextBoolean() ? g.length : (int) edge()).putInt(8, 0);
        }
        return g;
    }

    private byte[] setIrqs() {
        int data = 1 << random.nextInt(3);
        int action = 8 << random.nextInt(3);
        int flags = random.nextInt(10) == 0 ? random.nextInt(0x40) : data | action;
        int index = random.nextInt(8) == 0 ? random.nextInt(8) : DeviceLayout.IRQ_INDEX_MSIX;
        int start = random.nextInt(8) == 0 ? (int) edge() : random.nextInt(2100);
        int count = random.nextInt(8) == 0 ? (int) edge() : random.nextInt(20);
        byte[] bools = data == DeviceLayout.DATA_BOOL ? bytes(Math.min(count & 0xFFFF, 64)) : new byte[0];
        return WireMessages.setIrqs(flags, index, start, count, bools);
    }

    private byte[] writeMulti() {
        int n = random.nextInt(10);
        long[] offsets = new long[n];
        int[] regions = new int[n];
        byte[][] data = new byte[n][];
        for (int i = 0; i < n; i++) {
            offsets[i] = offset();
            regions[i] = region();
            data[i] = bytes(random.nextInt(9));
        }
        return WireMessages.writeMulti(offsets, regions, data);
    }

    private String junkJson() {
        String[] junk = {"", "{", "null", "[]", "{\"capabilities\":[]}", "{\"capabilities\":{\"max_msg_fds\":-1}}",
                "{\"capabilities\":{\"max_msg_fds\":100000,\"max_data_xfer_size\":1e300}}",
                "{\"capabilities\":{\"pgsizes\":\"x\",\"max_dma_maps\":0}}", "{\"a\":" + "[".repeat(2000),
                "{\"capabilities\":{\"migration\":{\"pgsize\":3}}}", "\u00ff\u00fe", "{\"capabilities\":{}}x"};
        return junk[random.nextInt(junk.length)];
    }

    private int region() {
        return random.nextInt(10) == 0 ? (int) edge() : random.nextInt(9);
    }

    /** An offset near a region's real registers or edges. */
    private long offset() {
        return switch (random.nextInt(6)) {
            case 0 -> random.nextInt(0x200) & ~3;
            case 1 -> 0x4000 + 16L * random.nextInt(4096);
            case 2 -> (0x8000 - 8 + random.nextInt(16));
            case 3 -> random.nextInt(0x2_0000);
            case 4 -> -random.nextInt(16);
            default -> edge();
        };
    }

    private int count() {
        int[] counts = {1, 2, 4, 8, 3, 0, 16, 4096, 0x10_0000, 0x10_0001};
        return random.nextInt(10) == 0 ? (int) edge() : counts[random.nextInt(counts.length)];
    }

    private long address() {
        return switch (random.nextInt(4)) {
            case 0 -> page() * random.nextInt(1 << 16);
            case 1 -> -page() * (1 + random.nextInt(4));
            case 2 -> random.nextLong();
            default -> 0x1_0000_0000L + page() * random.nextInt(64);
        };
    }

    private long size() {
        long[] sizes = {0, 1, 4096, 8192, 65536, 1 << 20, -4096, 0x1_0000_0000L};
        return sizes[random.nextInt(sizes.length)];
    }

    private static long page() {
        return 4096;
    }

    private int unknownCommand() {
        int[] unknown = {0, 14, 19, 20, 0x77, 0x7FFF, 0xFFFF};
        return unknown[random.nextInt(unknown.length)];
    }

    long edge() {
        return EDGES[random.nextInt(EDGES.length)];
    }

    byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
