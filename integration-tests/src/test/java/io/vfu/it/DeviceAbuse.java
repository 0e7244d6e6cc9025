package io.vfu.it;

import static io.vfu.it.DeviceLayout.*;
import static io.vfu.it.WireMessages.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Device-level abuse: sessions that negotiate and then drive the device the way a guest driver would, but with
 * random values and fds: memfd windows of random sizes (some shrunk with ftruncate after the server mapped
 * them), windows without fd (message DMA, answered with random data or errors), MSI-X vectors given eventfds or
 * any other kind of fd, IMS entries and MSI-X entries that fire as posted writes, doorbells, and the DMA engine
 * running descriptors that point anywhere. Also clients that make the device send to them and then stop
 * reading, and clients that map windows by the ten thousand.
 */
final class DeviceAbuse {

    private static final Duration REPLY = Duration.ofSeconds(2);
    private static final int[] NO_FDS = new int[0];

    /** One DMA window the server accepted. */
    private record Window(long address, long size, int fd, long fileOffset) {
        boolean hasFd() {
            return fd >= 0;
        }
    }

    private final FuzzContext ctx;
    private final Random random;
    private final MessageFuzzer fuzz;
    private final Abuser abuser;

    DeviceAbuse(FuzzContext ctx, Random random, MessageFuzzer fuzz, Abuser abuser) {
        this.ctx = ctx;
        this.random = random;
        this.fuzz = fuzz;
        this.abuser = abuser;
    }

    /** A driver-like session with random values (see the class comment), then one of the ways to leave. */
    void session(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = abuser.connect(socket, 500 + random.nextInt(4000)); FdZoo zoo = abuser.zoo()) {
            if (!negotiated(c)) {
                return;
            }
            if (random.nextBoolean()) {
                call(c, DEVICE_RESET, new byte[0]);
            }
            call(c, REGION_WRITE, regionWrite(CONFIG, COMMAND, new byte[] {COMMAND_MEMORY_AND_BUS_MASTER, 0}));
            call(c, REGION_WRITE, regionWrite(CONFIG, MSIX_CONTROL, shortLe(random.nextInt(4) == 0 ? 0xC000 : 0x8000)));
            List<Window> windows = mapWindows(c, zoo);
            assignVectors(c, zoo);
            programIms(c, 1 + random.nextInt(6));
            startEngine(c, windows);
            for (int i = random.nextInt(300); i > 0 && !ctx.over(); i--) {
                post(c, REGION_WRITE, regionWrite32(BAR0, random.nextBoolean() ? DOORBELL_MSIX : DOORBELL_IMS,
                        random.nextInt(80)));
            }
            if (random.nextInt(3) == 0) {
                // The client truncates memory the server has mapped; then makes the engine touch it again.
                zoo.shrinkMemfds();
                ringTail(c, 1 + random.nextInt(16));
            }
            if (random.nextInt(4) == 0 && !windows.isEmpty()) {
                Window w = windows.get(random.nextInt(windows.size()));
                call(c, DMA_UNMAP, dmaUnmap(0, w.address(), w.size())); // while the engine may be using it
                ringTail(c, 1 + random.nextInt(4));
            }
            if (random.nextInt(6) == 0) {
                call(c, DEVICE_RESET, new byte[0]);
            }
            if (random.nextInt(4) == 0) {
                call(c, DMA_UNMAP, dmaUnmap(UNMAP_ALL, 0, 0));
            }
            abuser.leave(c);
        }
    }

    /**
     * Makes the device send to this client (IMS and eventfd-less MSI-X interrupts become posted DMA_WRITEs,
     * the engine's ring in a window without fd becomes DMA_READs), stops reading, and keeps ringing doorbells
     * until its own sends block or its time is up.
     */
    void stopReading(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = abuser.connect(socket, 1000 + random.nextInt(4000))) {
            if (!negotiated(c)) {
                return;
            }
            call(c, REGION_WRITE, regionWrite(CONFIG, COMMAND, new byte[] {COMMAND_MEMORY_AND_BUS_MASTER, 0}));
            call(c, REGION_WRITE, regionWrite(CONFIG, MSIX_CONTROL, shortLe(MSIX_ENABLE)));
            programIms(c, 8);
            for (int v = 0; v < 8; v++) { // MSI-X entries 0..7 unmasked, no eventfd: they fire as posted writes
                call(c, REGION_WRITE, regionWrite(BAR2, 16L * v, entry(MSI_ADDRESS, 0x40 + v, 0)));
            }
            long window = 0x7000_0000L;
            call(c, DMA_MAP, dmaMap(DMA_READ_WRITE, 0, window, 1 << 20));
            ring(c, window, 64);
            c.stopReading();
            ringTail(c, 1 + random.nextInt(63));
            while (!ctx.over() && !c.ended()) {
                post(c, REGION_WRITE, regionWrite32(BAR0, random.nextBoolean() ? DOORBELL_IMS : DOORBELL_MSIX,
                        random.nextInt(8)));
            }
        }
    }

    /**
     * Up to 71,000 one-page DMA_MAPs of one memfd at scattered offsets (each its own mapping in the server),
     * posted without waiting, then unmap-all or just a disconnect.
     */
    void mapFlood(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = abuser.connect(socket, 3000 + random.nextInt(5000)); FdZoo zoo = abuser.zoo()) {
            if (!negotiated(c)) {
                return;
            }
            int fd = zoo.memfd(1 << 20);
            // Half the floods go for max_dma_maps (65535), the other half stop anywhere up to past it.
            int n = random.nextBoolean() ? 65_535 - random.nextInt(100) : 1000 + random.nextInt(70_000);
            int sent = 0;
            while (sent < n && !ctx.over()) {
                c.send(message(fuzz.nextId(), DMA_MAP, NO_REPLY, dmaMap(DMA_READ_WRITE, 4096L * random.nextInt(256),
                        0x100_0000_0000L + 8192L * sent, 4096)), fd);
                sent++;
            }
            ctx.count("map flood DMA_MAPs sent", sent);
            if (random.nextBoolean()) {
                call(c, DMA_UNMAP, dmaUnmap(UNMAP_ALL, 0, 0));
            }
        }
    }

    private boolean negotiated(RawConnection c) throws IOException, InterruptedException {
        RawConnection.Answer a = c.negotiate(fuzz.nextId(), REPLY, random.nextLong());
        ctx.count("negotiate " + a);
        return a == RawConnection.Answer.OK;
    }

    /** 1..4 windows: memfds of random sizes (some too small for the window), or no fd (message DMA). */
    private List<Window> mapWindows(RawConnection c, FdZoo zoo) throws IOException, InterruptedException {
        List<Window> windows = new ArrayList<>();
        for (int i = random.nextInt(4); i >= 0; i--) {
            long size = 4096L * (1 + random.nextInt(64));
            long address = random.nextInt(8) == 0 ? fuzz.edge() << 12 : 0x1000_0000L * (1 + random.nextInt(8));
            long offset = random.nextInt(4) == 0 ? 4096L * random.nextInt(4) : 0;
            int fd = -1;
            int[] fds = NO_FDS;
            if (random.nextInt(4) != 0) {
                long fileSize = random.nextInt(6) == 0 ? random.nextInt((int) size) : offset + size;
                fd = zoo.memfd(fileSize);
                fds = new int[] {fd};
            }
            int flags = random.nextInt(8) == 0 ? random.nextInt(4) : DMA_READ_WRITE;
            if (call(c, DMA_MAP, dmaMap(flags, offset, address, size), fds) == RawConnection.Answer.OK) {
                windows.add(new Window(address, size, fd, offset));
            }
        }
        return windows;
    }

    /** Gives MSI-X vectors (and now and then INTx) fds: mostly eventfds, sometimes pipes, sockets, files. */
    private void assignVectors(RawConnection c, FdZoo zoo) throws IOException, InterruptedException {
        for (int i = random.nextInt(6); i > 0; i--) {
            int index = random.nextInt(8) == 0 ? IRQ_INDEX_INTX : IRQ_INDEX_MSIX;
            int start = index == IRQ_INDEX_INTX ? 0 : random.nextInt(64);
            call(c, DEVICE_SET_IRQS, setIrqs(DATA_EVENTFD | ACTION_TRIGGER, index, start, 1, new byte[0]),
                    zoo.mostlyEventFds(1));
            zoo.sent();
        }
    }

    /** IMS entries with an MSI address (or a random one) and random data, unmasked. */
    private void programIms(RawConnection c, int entries) throws IOException, InterruptedException {
        for (int i = 0; i < entries; i++) {
            long address = random.nextInt(4) == 0 ? random.nextLong() : MSI_ADDRESS;
            call(c, REGION_WRITE, regionWrite(BAR4, (long) IMS_ENTRY * random.nextInt(80), entry(address,
                    random.nextInt(), 0)));
        }
    }

    /** Rings in a window (or anywhere), random descriptors written into memfd-backed rings, engine enabled. */
    private void startEngine(RawConnection c, List<Window> windows) throws IOException, InterruptedException {
        int size = 1 << random.nextInt(7);
        if (windows.isEmpty() || random.nextInt(6) == 0) {
            ring(c, fuzz.edge() << 5, size);
        } else {
            Window w = windows.get(random.nextInt(windows.size()));
            if (w.hasFd()) {
                writeDescriptors(w, size, windows);
            }
            ring(c, w.address(), size);
        }
        ringTail(c, 1 + random.nextInt(size));
    }

    private void ring(RawConnection c, long base, int size) throws IOException, InterruptedException {
        call(c, REGION_WRITE, regionWrite32(BAR0, DMA_CONTROL, 0));
        call(c, REGION_WRITE, regionWrite32(BAR0, DMA_RING_BASE_LO, (int) base));
        call(c, REGION_WRITE, regionWrite32(BAR0, DMA_RING_BASE_HI, (int) (base >>> 32)));
        call(c, REGION_WRITE, regionWrite32(BAR0, DMA_RING_SIZE, size));
        call(c, REGION_WRITE, regionWrite32(BAR0, DMA_CONTROL, 1));
    }

    /** Posted tail writes: the engine runs what lies in the ring, from its head up to the last tail. */
    private void ringTail(RawConnection c, int steps) throws IOException {
        for (int i = 0; i < steps; i++) {
            post(c, REGION_WRITE, regionWrite32(BAR0, DMA_TAIL, random.nextInt(64)));
        }
    }

    /**
     * Descriptors written through the memfd itself (reopened via {@code /proc/self/fd}, so the test never maps
     * memory a peer may truncate): sources, destinations and records inside windows, across their edges or
     * anywhere, random lengths and interrupt selectors.
     */
    private void writeDescriptors(Window ringWindow, int size, List<Window> windows) throws IOException {
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + ringWindow.fd()), StandardOpenOption.WRITE)) {
            for (int i = 0; i < size && 32L * (i + 1) <= ringWindow.size(); i++) {
                int[] lengths = {1, 8, 512, 4096, 65536, 1 << 20, 0, (1 << 20) + 1, random.nextInt()};
                int irq = random.nextInt(4);
                int flags = random.nextInt(8) == 0 ? random.nextInt() : irq | (random.nextInt(80) << 16);
                byte[] d = descriptor(anyAddress(windows), anyAddress(windows), lengths[random.nextInt(lengths.length)],
                        flags, random.nextInt(4) == 0 ? 0 : anyAddress(windows));
                ch.write(ByteBuffer.wrap(d), ringWindow.fileOffset() + 32L * i);
            }
        }
    }

    private long anyAddress(List<Window> windows) {
        if (windows.isEmpty() || random.nextInt(5) == 0) {
            return random.nextInt(2) == 0 ? random.nextLong() : fuzz.edge();
        }
        Window w = windows.get(random.nextInt(windows.size()));
        return switch (random.nextInt(4)) {
            case 0 -> w.address() + w.size() - 1 - random.nextInt(64); // near the end: copies cross it
            case 1 -> w.address() - random.nextInt(64);
            default -> w.address() + (random.nextLong() & Long.MAX_VALUE) % w.size();
        };
    }

    /** A 16-byte MSI-X or IMS entry: address lo, address hi, data, control (0: unmasked). */
    private static byte[] entry(long address, int data, int control) {
        return WireMessages.le(16).putLong(address).putInt(data).putInt(control).array();
    }

    private static byte[] shortLe(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8)};
    }

    /** Sends a command and waits up to 2 s for its answer (which may be an error: values are random). */
    private RawConnection.Answer call(RawConnection c, int command, byte[] payload, int... fds)
            throws IOException, InterruptedException {
        int id = fuzz.nextId();
        c.send(message(id, command, 0, payload), fds);
        return c.awaitReply(id, REPLY);
    }

    private void post(RawConnection c, int command, byte[] payload) throws IOException {
        c.send(message(fuzz.nextId(), command, NO_REPLY, payload));
    }
}
