package io.vfu.bench;

import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.Frame;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The measurements made against one running server through one {@link SyncClient}. Register offsets are the
 * default layout's (device-model/LAYOUT.md).
 */
final class ServerBench {

    /** Config space: Vendor ID / Device ID dword. */
    static final long CFG_ID = 0x00;
    /** Config space: MSI-X Message Control (capability at 0x50, control at +2); bit 15 Enable. */
    static final long CFG_MSIX_CONTROL = 0x52;
    static final int MSIX_ENABLE = 0x8000;
    /** BAR0 ID register ("VFU1"). */
    static final long BAR0_ID = 0x000;
    static final int BAR0_ID_VALUE = 0x31554656;
    /** BAR0 DOORBELL_MSIX: writing n fires MSI-X vector n. */
    static final long BAR0_DOORBELL_MSIX = 0x040;
    /** BAR0 DOORBELL_IMS: writing n fires IMS entry n. */
    static final long BAR0_DOORBELL_IMS = 0x044;
    /** BAR0 SCRATCH[0]. */
    static final long BAR0_SCRATCH0 = 0x080;
    /** Config space Command register: Memory Space (bit 1) and Bus Master Enable (bit 2). */
    static final long CFG_COMMAND = 0x04;
    static final int COMMAND_MEMORY_AND_BUS_MASTER = 0x6;
    /** An IMS entry's message: the x86 MSI address window and a vector (LAYOUT.md "BAR4: IMS store"). */
    static final long IMS_ADDRESS = 0xFEE0_0000L;
    static final int IMS_DATA = 0x41;
    /** Posted doorbells between two barrier reads: their DMA_WRITEs fit the socket buffer while unread. */
    static final int IMS_BATCH = 64;
    /** The fds one SET_IRQS may carry (QEMU's and our max_msg_fds). */
    static final int MAX_FDS = 16;

    private final SyncClient client;

    ServerBench(SyncClient client) {
        this.client = client;
    }

    /** Synchronous 4-byte reads: {@code n} timed after {@code warmup} untimed. Returns percentiles and ops/s. */
    Timed roundTrips(int region, long offset, int warmup, int n) throws IOException {
        for (int i = 0; i < warmup; i++) {
            client.read4(region, offset);
        }
        long[] samples = new long[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            client.read4(region, offset);
            samples[i] = System.nanoTime() - t0;
        }
        double opsPerSec = n / ((System.nanoTime() - start) / 1e9);
        return new Timed(Stats.of(samples, n), opsPerSec);
    }

    /** {@code n} synchronous 4-byte reads, untimed. */
    void reads(int region, long offset, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            client.read4(region, offset);
        }
    }

    /**
     * {@code n} posted REGION_WRITEs to SCRATCH[0], then one read of it as a barrier (in-order processing means
     * the read's reply comes after every write was applied). Returns the rate (writes / time to barrier reply)
     * and the barrier's own latency.
     */
    Posted posted(int n) throws IOException {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            client.post4(SyncClient.REGION_BAR0, BAR0_SCRATCH0, i);
        }
        long barrierStart = System.nanoTime();
        int last = client.read4(SyncClient.REGION_BAR0, BAR0_SCRATCH0);
        long end = System.nanoTime();
        if (last != n - 1) {
            throw new IOException("barrier read " + last + " after posting 0.." + (n - 1));
        }
        return new Posted(n / ((end - start) / 1e9), end - barrierStart);
    }

    /** {@code n} synchronous 4-byte REGION_WRITEs (with a reply) to SCRATCH[1]; a read checks the last. */
    void writes(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            client.write4(SyncClient.REGION_BAR0, BAR0_SCRATCH0 + 4, i);
        }
        int last = client.read4(SyncClient.REGION_BAR0, BAR0_SCRATCH0 + 4);
        if (last != n - 1) {
            throw new IOException("SCRATCH[1] reads " + last + " after writing 0.." + (n - 1));
        }
    }

    /**
     * {@code n} posted REGION_WRITE_MULTIs, each of two writes (4 bytes to SCRATCH[2], 2 bytes to SCRATCH[3]), as
     * QEMU coalesces posted writes under load; then one read of SCRATCH[2] as a barrier, which must see the last.
     */
    void postedMulti(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            client.postMulti(SyncClient.REGION_BAR0, BAR0_SCRATCH0 + 8, i, BAR0_SCRATCH0 + 12, (short) i);
        }
        int last = client.read4(SyncClient.REGION_BAR0, BAR0_SCRATCH0 + 8);
        if (last != n - 1) {
            throw new IOException("barrier read " + last + " after coalesced writes of 0.." + (n - 1));
        }
    }

    /**
     * Makes IMS {@code entry} deliverable: Memory Space and Bus Master on (a device posts writes only as a bus
     * master), the entry's address and data written and its mask cleared (LAYOUT.md "BAR4: IMS store").
     */
    void armIms(int entry) throws IOException {
        int command = client.read4(SyncClient.REGION_CONFIG, CFG_COMMAND) & 0xFFFF;
        client.write(SyncClient.REGION_CONFIG, CFG_COMMAND, 2, command | COMMAND_MEMORY_AND_BUS_MASTER);
        long e = 16L * entry;
        client.write(SyncClient.REGION_BAR4, e, 4, (int) IMS_ADDRESS);
        client.write(SyncClient.REGION_BAR4, e + 4, 4, (int) (IMS_ADDRESS >>> 32));
        client.write(SyncClient.REGION_BAR4, e + 8, 4, IMS_DATA);
        client.write(SyncClient.REGION_BAR4, e + 12, 4, 0);
    }

    /**
     * {@code n} IMS interrupts: posted doorbells for {@code entry}, each delivered by the server as a posted
     * DMA_WRITE of the entry's data to its address, in batches of {@link #IMS_BATCH} followed by a barrier read
     * (the server sends a posted write before any later reply). Checks every write arrived as programmed.
     *
     * @return the barrier reads made
     */
    int imsInterrupts(int entry, int n) throws IOException {
        int barriers = 0;
        for (int done = 0; done < n; ) {
            int batch = Math.min(IMS_BATCH, n - done);
            for (int i = 0; i < batch; i++) {
                client.post4(SyncClient.REGION_BAR0, BAR0_DOORBELL_IMS, entry);
            }
            int writes = client.barrierCountingDmaWrites(SyncClient.REGION_BAR0, BAR0_ID, IMS_ADDRESS, IMS_DATA);
            barriers++;
            if (writes != batch) {
                throw new IOException(writes + " DMA_WRITEs for " + batch + " IMS doorbells");
            }
            done += batch;
        }
        return barriers;
    }

    /** {@code n} config reads with {@code window} requests in flight. Returns ops/s. */
    double pipelined(int window, int n) throws IOException {
        long start = System.nanoTime();
        int sent = 0;
        for (; sent < Math.min(window, n); sent++) {
            client.send(io.vfu.protocol.Command.REGION_READ,
                    client.readRequest(SyncClient.REGION_CONFIG, CFG_ID, 4), false);
        }
        for (int done = 0; done < n; done++) {
            client.receive().close();
            if (sent < n) {
                client.send(io.vfu.protocol.Command.REGION_READ,
                        client.readRequest(SyncClient.REGION_CONFIG, CFG_ID, 4), false);
                sent++;
            }
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    /** Enables MSI-X in config space and assigns {@code efd} to vector 0. */
    void armVector0(EventFd efd) throws IOException {
        client.write(SyncClient.REGION_CONFIG, CFG_MSIX_CONTROL, 2, MSIX_ENABLE);
        client.setIrqs(DeviceSetIrqs.DATA_EVENTFD | DeviceSetIrqs.ACTION_TRIGGER, SyncClient.IRQ_MSIX, 0, 1,
                efd.fd().fd());
    }

    /**
     * Interrupt latency: a posted doorbell write for vector 0, timed from just before the sendmsg until a
     * blocking read of the vector's eventfd returns.
     */
    Stats irqLatency(EventFd efd, int warmup, int n) throws IOException {
        long[] samples = new long[n];
        for (int i = -warmup; i < n; i++) {
            long t0 = System.nanoTime();
            client.post4(SyncClient.REGION_BAR0, BAR0_DOORBELL_MSIX, 0);
            efd.read();
            long dt = System.nanoTime() - t0;
            if (i >= 0) {
                samples[i] = dt;
            }
        }
        return Stats.of(samples, n);
    }

    /** Disables the MSI-X index (SET_IRQS DATA_NONE|TRIGGER, start 0, count 0): every vector de-assigned. */
    void disableMsix() throws IOException {
        client.setIrqs(DeviceSetIrqs.DATA_NONE | DeviceSetIrqs.ACTION_TRIGGER, SyncClient.IRQ_MSIX, 0, 0);
    }

    /**
     * The dynamic way: vectors 0..max-1 appended one SET_IRQS(start=N, count=1) each, as QEMU does without
     * NORESIZE. Returns the time of each append (ns). Ends with the index disabled again.
     */
    long[] append(int max) throws IOException {
        disableMsix();
        long[] cost = new long[max];
        List<EventFd> fds = new ArrayList<>(max);
        try {
            for (int v = 0; v < max; v++) {
                EventFd e = EventFd.create();
                fds.add(e);
                long t0 = System.nanoTime();
                client.setIrqs(DeviceSetIrqs.DATA_EVENTFD | DeviceSetIrqs.ACTION_TRIGGER, SyncClient.IRQ_MSIX, v, 1,
                        e.fd().fd());
                cost[v] = System.nanoTime() - t0;
            }
            disableMsix();
        } finally {
            fds.forEach(EventFd::close);
        }
        return cost;
    }

    /**
     * The NORESIZE way, for contrast: growing to N vectors disables the index and re-sends vectors 0..N-1
     * (in SET_IRQS messages of at most 16 fds). Returns the time of each growth step 1..max (ns).
     */
    long[] noResize(int max) throws IOException {
        disableMsix();
        long[] cost = new long[max];
        List<EventFd> fds = new ArrayList<>(max);
        try {
            int[] raw = new int[max];
            for (int v = 0; v < max; v++) {
                EventFd e = EventFd.create();
                fds.add(e);
                raw[v] = e.fd().fd();
            }
            for (int n = 1; n <= max; n++) {
                long t0 = System.nanoTime();
                disableMsix();
                for (int start = 0; start < n; start += MAX_FDS) {
                    int count = Math.min(MAX_FDS, n - start);
                    client.setIrqs(DeviceSetIrqs.DATA_EVENTFD | DeviceSetIrqs.ACTION_TRIGGER, SyncClient.IRQ_MSIX,
                            start, count, java.util.Arrays.copyOfRange(raw, start, start + count));
                }
                cost[n - 1] = System.nanoTime() - t0;
            }
            disableMsix();
        } finally {
            fds.forEach(EventFd::close);
        }
        return cost;
    }

    /** Checks that BAR0 reads the layout's ID, so a wrong server fails loudly instead of measuring errors. */
    void checkDevice() throws IOException {
        int id = client.read4(SyncClient.REGION_BAR0, BAR0_ID);
        if (id != BAR0_ID_VALUE) {
            throw new IOException(String.format("BAR0 ID reads 0x%08x, expected 0x%08x", id, BAR0_ID_VALUE));
        }
        try (Frame f = client.call(io.vfu.protocol.Command.REGION_READ,
                client.readRequest(SyncClient.REGION_CONFIG, CFG_ID, 4))) {
            if (f.payload().remaining() != 20) {
                throw new IOException("config read reply of " + f.payload().remaining() + " bytes");
            }
        }
    }

    /**
     * {@code to - from} times the median of {@code cost[from..to)}, in microseconds: the window's cost with a
     * single scheduler hiccup (milliseconds on a shared machine) unable to swamp a hundred ~50 us calls.
     */
    static double medianTimesCountMicros(long[] cost, int from, int to) {
        long[] w = java.util.Arrays.copyOfRange(cost, from, to);
        java.util.Arrays.sort(w);
        int n = w.length;
        double median = n % 2 == 1 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2.0;
        return median * n / 1e3;
    }

    /** Sum of {@code cost[from..to)} in microseconds. */
    static double sumMicros(long[] cost, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) {
            s += cost[i];
        }
        return s / 1e3;
    }

    record Timed(Stats stats, double opsPerSec) {
    }

    record Posted(double msgsPerSec, long barrierNanos) {
    }
}
