package io.vfu.it;

import static io.vfu.it.DeviceLayout.*;

import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A client that does what QEMU does and checks every answer: VERSION, the vendor/device ID, DEVICE_RESET, a
 * memfd window (mmap DMA) and a window without fd (message DMA, served from {@link #pattern}), Memory + Bus
 * Master, MSI-X enabled with one vector on an eventfd, the DMA engine's ring in the memfd. {@link #round} then
 * checks the ID registers, a scratch register round trip, a doorbell interrupt and two engine copies (memfd to
 * memfd, message window to memfd) with their completion records and interrupts. Every wait is bounded by the
 * timeout given; a wrong answer is an {@link AssertionError} saying what.
 */
final class GoodClient implements AutoCloseable {

    /** The memfd window: ring at +0, records at +0x100, copy areas above. */
    static final long MAPPED = 0x4000_0000L;
    static final long MESSAGE = 0x5000_0000L;
    static final int WINDOW = 64 * 1024;
    private static final int RING = 8;
    private static final int COPY = 512;

    /** The client's answer to a DMA_READ of its message window: a byte derived from the address. */
    static byte pattern(long address) {
        return (byte) (address * 31 + (address >>> 8));
    }

    /** The device had another client (EBUSY); try again later. */
    static final class BusyException extends Exception {
        BusyException() {
            super("EBUSY");
        }
    }

    private final VfioUserClient client;
    private final Duration timeout;
    private final long expectedId;
    private final int vector;
    private final OwnedFd memfd;
    private final Mmap view;
    private final EventFd irq;
    private int slot;

    private GoodClient(VfioUserClient client, Duration timeout, long expectedId, int vector, OwnedFd memfd,
            Mmap view, EventFd irq) {
        this.client = client;
        this.timeout = timeout;
        this.expectedId = expectedId;
        this.vector = vector;
        this.memfd = memfd;
        this.view = view;
        this.irq = irq;
    }

    /**
     * Connects and sets everything up.
     *
     * @param expectedId vendor ID | device ID << 16, as config dword 0 reads
     * @throws BusyException the device is serving another client
     */
    static GoodClient attach(Path socket, long expectedId, int vector, String memfdName, Duration timeout)
            throws Exception {
        VfioUserClient c = VfioUserClient.over(Connects.connect(socket, System.nanoTime() + timeout.toNanos()),
                timeout, messageWindow());
        GoodClient g = null;
        try {
            try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576}")
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                check(f.header().error() == 0, "VERSION accepted");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ErrorReplyException er && er.errno() == Errno.EBUSY.code()) {
                    throw new BusyException();
                }
                throw e;
            }
            OwnedFd memfd = MemFd.create(memfdName, WINDOW);
            Mmap view;
            try {
                view = Mmap.map(memfd, 0, WINDOW, true);
            } catch (Exception e) {
                memfd.close();
                throw e;
            }
            g = new GoodClient(c, timeout, expectedId, vector, memfd, view, EventFd.create());
            g.setUp();
            return g;
        } catch (Exception | Error e) {
            if (g != null) {
                g.close();
            } else {
                c.close();
            }
            throw e;
        }
    }

    private void setUp() throws Exception {
        check(read32(CONFIG, 0) == expectedId, "config dword 0 is the vendor/device ID");
        call(Command.DEVICE_RESET, ByteBuffer.allocate(0));
        call(Command.DMA_MAP, ByteBuffer.wrap(WireMessages.dmaMap(WireMessages.DMA_READ_WRITE, 0, MAPPED, WINDOW)),
                memfd.fd());
        call(Command.DMA_MAP, ByteBuffer.wrap(WireMessages.dmaMap(WireMessages.DMA_READ_WRITE, 0, MESSAGE, WINDOW)));
        write(CONFIG, COMMAND, 2, COMMAND_MEMORY_AND_BUS_MASTER);
        write(CONFIG, MSIX_CONTROL, 2, MSIX_ENABLE);
        call(Command.DEVICE_SET_IRQS, ByteBuffer.wrap(WireMessages.setIrqs(DATA_EVENTFD | ACTION_TRIGGER,
                IRQ_INDEX_MSIX, vector, 1, new byte[0])), irq.fd().fd());
        write(BAR0, DMA_CONTROL, 4, 0);
        write(BAR0, DMA_RING_BASE_LO, 4, (int) MAPPED);
        write(BAR0, DMA_RING_BASE_HI, 4, (int) (MAPPED >>> 32));
        write(BAR0, DMA_RING_SIZE, 4, RING);
        write(BAR0, DMA_CONTROL, 4, 1); // enabling zeroes head and tail
        slot = 0;
    }

    /** One round of checks, drawing values from {@code random}. */
    void round(Random random) throws Exception {
        check(read32(CONFIG, 0) == expectedId, "config dword 0 is the vendor/device ID");
        check(read32(BAR0, ID) == ID_VALUE, "BAR0 ID register");
        int scratch = SCRATCH + 4 * random.nextInt(32);
        int value = random.nextInt();
        write(BAR0, scratch, 4, value);
        check(read32(BAR0, scratch) == (value & 0xFFFF_FFFFL), "a scratch register reads back what was written");
        drainInterrupts();
        write(BAR0, DOORBELL_MSIX, 4, vector);
        awaitInterrupt("the MSI-X doorbell");
        copy(MAPPED + 0x2000, MAPPED + 0x4000, random, true);
        copy(MESSAGE + 64 * random.nextInt(512), MAPPED + 0x8000, random, false);
    }

    /** One engine descriptor copying {@link #COPY} bytes into the memfd, with its record and interrupt checked. */
    private void copy(long source, long destination, Random random, boolean fillSource) throws Exception {
        MemorySegment mem = view.segment();
        byte[] expected = new byte[COPY];
        if (fillSource) {
            random.nextBytes(expected);
            MemorySegment.copy(expected, 0, mem, ValueLayout.JAVA_BYTE, source - MAPPED, COPY);
        } else {
            for (int i = 0; i < COPY; i++) {
                expected[i] = pattern(source + i);
            }
        }
        mem.asSlice(destination - MAPPED, COPY).fill((byte) 0);
        long record = MAPPED + 0x100 + 8L * slot;
        mem.set(ValueLayout.JAVA_LONG_UNALIGNED, record - MAPPED, 0);
        byte[] d = WireMessages.descriptor(source, destination, COPY, IRQ_MSIX | (vector << 16), record);
        MemorySegment.copy(d, 0, mem, ValueLayout.JAVA_BYTE, (long) DESCRIPTOR * slot, d.length);
        slot = (slot + 1) % RING;
        drainInterrupts();
        write(BAR0, DMA_TAIL, 4, slot);
        awaitInterrupt("the DMA completion of a copy from 0x" + Long.toHexString(source));
        ByteBuffer r = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, record - MAPPED, r.array(), 0, 8);
        check(r.getInt(0) == STATUS_SUCCESS && r.getInt(4) == COPY, "completion record of the copy from 0x"
                + Long.toHexString(source) + " says success and " + COPY + " bytes (status 0x"
                + Integer.toHexString(r.getInt(0)) + ", bytes " + r.getInt(4) + ")");
        byte[] copied = mem.asSlice(destination - MAPPED, COPY).toArray(ValueLayout.JAVA_BYTE);
        check(java.util.Arrays.equals(expected, copied), "the copied bytes are the source's");
    }

    private void drainInterrupts() throws Exception {
        irq.await(Duration.ZERO);
    }

    private void awaitInterrupt(String what) throws Exception {
        OptionalLong n = irq.await(timeout);
        check(n.isPresent() && n.getAsLong() >= 1, "an interrupt on MSI-X vector " + vector + " for " + what
                + " within " + timeout.toMillis() + " ms");
    }

    private long read32(int region, long offset) throws Exception {
        return Clients.read32(client, region, offset);
    }

    private void write(int region, long offset, int width, int value) throws Exception {
        byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
        call(Command.REGION_WRITE, ByteBuffer.wrap(WireMessages.regionWrite(region, offset,
                java.util.Arrays.copyOf(data, width))));
    }

    private void call(Command command, ByteBuffer payload, int... fds) throws Exception {
        try (Frame f = client.call(command, payload, fds)) {
            check(f.header().error() == 0, command + " succeeded");
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Serves DMA_READ of the message window with {@link #pattern}; accepts writes there; refuses the rest. */
    private static DmaHandler messageWindow() {
        return new DmaHandler() {
            @Override
            public ByteBuffer read(long address, long count) throws MessageException {
                if (address < MESSAGE || address - MESSAGE > WINDOW - count) {
                    throw new MessageException(Errno.EFAULT, "outside the message window");
                }
                ByteBuffer b = ByteBuffer.allocate((int) count);
                for (int i = 0; i < count; i++) {
                    b.put(i, pattern(address + i));
                }
                return b;
            }

            @Override
            public void write(long address, ByteBuffer data) throws MessageException {
                if (address < MESSAGE || address - MESSAGE > WINDOW - data.remaining()) {
                    throw new MessageException(Errno.EFAULT, "outside the message window");
                }
            }
        };
    }

    @Override
    public void close() {
        client.close();
        view.close();
        memfd.close();
        irq.close();
    }
}
