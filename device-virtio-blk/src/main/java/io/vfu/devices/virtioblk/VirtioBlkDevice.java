package io.vfu.devices.virtioblk;

import io.vfu.device.DeviceContext;
import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.RegionIndex;
import io.vfu.device.pci.Bar;
import io.vfu.device.pci.Capability;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.DwordAccess;
import io.vfu.device.pci.MsixTable;
import io.vfu.device.pci.PciDevice;
import io.vfu.device.pci.PciInterrupts;
import io.vfu.device.pci.PciRegs;
import io.vfu.device.pci.RegionMap;
import java.lang.System.Logger.Level;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A virtio-blk device (virtio 1.2, 5.2) on the modern PCI transport (4.1), backed by a raw image: split rings with
 * indirect descriptors and EVENT_IDX, multiqueue, flush, discard and write-zeroes, read-only images, GET_ID.
 * Layout in {@link VirtioPci}.
 *
 * <h2>Threads</h2>
 * Register accesses come under the device lock. A queue notification only marks the queue and asks for work; the
 * device's worker reads the ring ({@link #work}) and hands requests to a small pool of I/O threads (the last
 * request it found runs on the worker itself, so a lone request pays no hand-off), so requests of every queue
 * run in parallel and complete out of order. A completion writes the used ring under the queue's monitor and
 * raises the interrupt under the device lock.
 *
 * <h2>Resets</h2>
 * A virtio reset (device_status 0), DEVICE_RESET and FLR all first fence the requests in flight ({@link InFlight}):
 * they finish (or, after {@link #DRAIN_MILLIS}, are disowned) before the device reads as reset, and nothing of
 * theirs reaches the rings afterwards.
 */
final class VirtioBlkDevice extends PciDevice {

    /** How long a reset waits for requests in flight (a message-DMA request waits for its client). */
    static final long DRAIN_MILLIS = 5_000;

    private final DeviceContext context;
    private final System.Logger log;
    private final BlockBackend backend;
    private final BlkMeters meters;
    private final BlkRequests requests;
    private final Virtqueue[] queues;
    private final PciInterrupts irqs;
    private final CommonConfig common;
    private final BlkConfig blkConfig;
    private final ConfigSpace config;
    private final RegionMap regions;
    private final InFlight inFlight = new InFlight();
    private final ThreadPoolExecutor pool;
    private volatile DeviceLock lock;
    private int isr;

    VirtioBlkDevice(BlkSettings s, BlockBackend backend, DeviceContext context) {
        this.context = context;
        this.log = context.logger();
        this.backend = backend;
        this.meters = new BlkMeters(context.meters());
        this.requests = new BlkRequests(backend, s.serial(), meters, log);
        this.queues = new Virtqueue[s.queues()];
        for (int q = 0; q < queues.length; q++) {
            queues[q] = new Virtqueue(q, s.queueSize());
        }
        int vectors = 1 + queues.length; // Rule: one for configuration changes, one per request queue.
        long pba = MsixTable.pbaAfterTable(vectors);
        this.irqs = new PciInterrupts(vectors, pba, context.postedWrites(), (source, index) -> { });
        this.common = new CommonConfig(VirtioFeatures.offered(backend, queues.length), queues, vectors,
                new CommonConfig.Listener() {
                    @Override
                    public void resetRequested() {
                        virtioReset();
                    }

                    @Override
                    public void driverOk() {
                        kickAll();
                    }

                    @Override
                    public void driverError(String why) {
                        markNeedsReset(why);
                    }
                });
        this.blkConfig = new BlkConfig(backend.capacity(), s.queueSize(), queues.length);
        this.config = ConfigSpace.builder()
                .ids(VirtioPci.VENDOR, VirtioPci.DEVICE_BLK)
                .subsystem(VirtioPci.VENDOR, 0x0002)
                .revisionAndClass(1, VirtioPci.CLASS_STORAGE_OTHER) // Rule: a modern-only device has revision >= 1.
                .bar(0, Bar.memory32(VirtioPci.BAR0_SIZE))
                .bar(VirtioPci.BAR_MSIX, Bar.memory32(pba + 4096))
                .interruptPin(1)
                .capability(VirtioPci.PCI_CFG_CAP_OFFSET, VirtioPci.pciCfgAccess())
                .capability(VirtioPci.structure(VirtioPci.CAP_COMMON, VirtioPci.COMMON_OFFSET, VirtioPci.COMMON_LENGTH))
                .capability(VirtioPci.structure(VirtioPci.CAP_NOTIFY, VirtioPci.NOTIFY_OFFSET,
                        VirtioPci.NOTIFY_MULTIPLIER * queues.length))
                .capability(VirtioPci.structure(VirtioPci.CAP_ISR, VirtioPci.ISR_OFFSET, VirtioPci.ISR_LENGTH))
                .capability(VirtioPci.structure(VirtioPci.CAP_DEVICE, VirtioPci.DEVICE_OFFSET, BlkConfig.LENGTH))
                .capability(irqs.msixCapability(VirtioPci.BAR_MSIX))
                .capability(Capability.pciExpressEndpoint(this::reset))
                .capability(Capability.powerManagement())
                .build(irqs.intx());
        this.regions = new RegionMap(RegionIndex.COUNT)
                .add(RegionIndex.CONFIG, PciRegs.SIZE, configAccess)
                .add(0, VirtioPci.BAR0_SIZE, bar0)
                .add(VirtioPci.BAR_MSIX, pba + 4096, irqs.msix());
        int threads = Math.min(16, Math.max(4, 2 * queues.length));
        this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                namedThreads("vfu-blk-" + context.name()));
        // Rule: idle I/O threads go away, so an idle device holds none.
        pool.allowCoreThreadTimeOut(true);
        context.meters().gauge("virtio_blk_in_flight", "Requests being executed", inFlight::count);
    }

    private static java.util.concurrent.ThreadFactory namedThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // --- registers (under the device lock) ---

    private final DwordAccess bar0 = new DwordAccess() {
        @Override
        public int readDword(int offset) {
            if (offset < VirtioPci.COMMON_LENGTH) {
                return common.readDword(offset);
            }
            if (offset == VirtioPci.ISR_OFFSET) {
                // Rule: reading ISR status clears it and deasserts INTx (virtio 1.2, 4.1.4.5).
                int v = isr;
                isr = 0;
                irqs.intx().setLevel(false);
                return v;
            }
            if (offset >= VirtioPci.DEVICE_OFFSET && offset < VirtioPci.DEVICE_OFFSET + BlkConfig.LENGTH) {
                return blkConfig.readDword(offset - VirtioPci.DEVICE_OFFSET);
            }
            return 0;
        }

        @Override
        public void writeDword(int offset, int value, int mask) {
            if (offset < VirtioPci.COMMON_LENGTH) {
                common.writeDword(offset, value, mask);
            } else if (offset >= VirtioPci.NOTIFY_OFFSET
                    && offset < VirtioPci.NOTIFY_OFFSET + VirtioPci.NOTIFY_MULTIPLIER * queues.length) {
                notifyQueue((offset - VirtioPci.NOTIFY_OFFSET) / VirtioPci.NOTIFY_MULTIPLIER);
            }
            // Rule: ISR, device configuration and the unused space are read-only.
        }
    };

    /** Config space, with pci_cfg_data of the PCI configuration access capability reaching into BAR0. */
    private final DwordAccess configAccess = new DwordAccess() {
        @Override
        public int readDword(int offset) {
            if (offset == VirtioPci.PCI_CFG_CAP_OFFSET + VirtioPci.PCI_CFG_DATA) {
                return PciCfgWindow.read(config, bar0);
            }
            return config.readDword(offset);
        }

        @Override
        public void writeDword(int offset, int value, int mask) {
            if (offset == VirtioPci.PCI_CFG_CAP_OFFSET + VirtioPci.PCI_CFG_DATA) {
                PciCfgWindow.write(config, bar0, value, mask);
                return;
            }
            config.writeDword(offset, value, mask);
        }
    };

    private void notifyQueue(int q) {
        meters.notifications.increment();
        queues[q].kicked = true;
        context.requestWork();
    }

    private void kickAll() {
        for (Virtqueue q : queues) {
            q.kicked = true;
        }
        context.requestWork();
    }

    // --- queues (on the worker, without the device lock) ---

    @Override
    public void work(GuestMemory memory, DeviceLock deviceLock) {
        this.lock = deviceLock;
        for (Virtqueue q : queues) {
            if (q.kicked) {
                q.kicked = false; // Rule: cleared before the ring is read, so a later kick is never lost.
                drainQueue(q, memory, deviceLock);
            }
        }
    }

    private void drainQueue(Virtqueue q, GuestMemory memory, DeviceLock deviceLock) {
        RingLayout[] layout = new RingLayout[1];
        int[] gen = new int[1];
        deviceLock.run(() -> {
            if (common.driverOk() && q.enabled && !q.broken) {
                long f = common.negotiated();
                layout[0] = q.layout(VirtioFeatures.has(f, VirtioFeatures.RING_EVENT_IDX),
                        VirtioFeatures.has(f, VirtioFeatures.RING_INDIRECT_DESC));
                gen[0] = inFlight.generation();
            }
        });
        if (layout[0] == null || !inFlight.enter(gen[0])) {
            return;
        }
        Chain last = null;
        RingException broken = null;
        try {
            SplitRing ring = new SplitRing(memory, layout[0]);
            while (true) {
                int avail = ring.availIdx();
                // Rule: the driver cannot have more outstanding than the ring holds.
                if (((avail - q.lastAvail) & 0xFFFF) > layout[0].size()) {
                    throw new RingException("queue " + q.index + ": avail idx " + avail + " is more than a ring ahead of "
                            + q.lastAvail);
                }
                while (q.lastAvail != avail) {
                    int head = ring.availHead(q.lastAvail);
                    q.lastAvail = (q.lastAvail + 1) & 0xFFFF;
                    Chain c = ring.chain(head);
                    if (last != null) {
                        submit(q, layout[0], gen[0], last, memory);
                    }
                    last = c;
                }
                if (!layout[0].eventIdx()) {
                    break;
                }
                ring.setAvailEvent(q.lastAvail);
                // Rule: re-read after publishing avail_event; a request added meanwhile was not kicked.
                if (ring.availIdx() == avail) {
                    break;
                }
            }
        } catch (RingException e) {
            broken = e;
        } catch (RuntimeException | InternalError e) {
            broken = new RingException("queue " + q.index + ": " + e);
        } finally {
            inFlight.exit();
        }
        if (last != null && inFlight.enter(gen[0])) {
            execute(q, layout[0], gen[0], last, memory);
        }
        if (broken != null) {
            brokenRing(q, gen[0], broken);
        }
    }

    private void submit(Virtqueue q, RingLayout layout, int gen, Chain chain, GuestMemory memory) {
        if (!inFlight.enter(gen)) {
            return;
        }
        try {
            pool.execute(() -> execute(q, layout, gen, chain, memory));
        } catch (RejectedExecutionException e) {
            inFlight.exit(); // the device is closing
        }
    }

    /** Runs one request it entered in {@link #inFlight}, completes it, exits, then interrupts if the driver wants. */
    private void execute(Virtqueue q, RingLayout layout, int gen, Chain chain, GuestMemory memory) {
        boolean notify = false;
        RingException broken = null;
        try {
            int used = requests.execute(chain, memory);
            notify = complete(q, new SplitRing(memory, layout), gen, chain.head(), used);
        } catch (RingException e) {
            broken = e;
        } catch (RuntimeException | InternalError e) {
            broken = new RingException("queue " + q.index + ": request at head " + chain.head() + ": " + e);
        } finally {
            // Rule: a request leaves the in-flight count before it takes the device lock (a reset holding the lock
            // waits for the count).
            inFlight.exit();
        }
        if (broken != null) {
            brokenRing(q, gen, broken);
        } else if (notify) {
            DeviceLock l = lock;
            l.run(() -> {
                if (inFlight.generation() == gen && common.driverOk()) {
                    raise(q.msixVector, VirtioPci.ISR_QUEUE);
                }
            });
        }
    }

    /** Puts (head, used) in the used ring; whether the driver asked to be interrupted for it. */
    private boolean complete(Virtqueue q, SplitRing ring, int gen, int head, int used) throws RingException {
        synchronized (q) {
            if (inFlight.generation() != gen) {
                return false; // Rule: a request disowned by a reset never writes the new rings.
            }
            int old = q.usedIdx;
            ring.putUsed(old, head, used);
            q.usedIdx = (old + 1) & 0xFFFF;
            return ring.wantsInterrupt(old, q.usedIdx);
        }
    }

    /**
     * Rule: a broken ring stops its queue and sets NEEDS_RESET; the other queues keep being served (a guest's
     * driver may never act on NEEDS_RESET, and its other queues did nothing wrong).
     */
    private void brokenRing(Virtqueue q, int gen, RingException e) {
        log.log(Level.WARNING, () -> context.name() + ": " + e.getMessage() + "; queue stopped, device needs reset");
        meters.ringErrors.increment();
        lock.run(() -> {
            if (inFlight.generation() == gen) {
                q.broken = true;
                markNeedsReset(e.getMessage());
            }
        });
    }

    /** Under the device lock: NEEDS_RESET, and a configuration-change interrupt if the driver is running. */
    private void markNeedsReset(String why) {
        if ((common.status() & VirtioPci.STATUS_NEEDS_RESET) != 0) {
            return;
        }
        boolean running = (common.status() & VirtioPci.STATUS_DRIVER_OK) != 0;
        common.setNeedsReset();
        // Rule: with DRIVER_OK set, NEEDS_RESET is announced by a configuration change (virtio 1.2, 2.1.2).
        if (running) {
            raise(common.configVector(), VirtioPci.ISR_CONFIG);
        }
        log.log(Level.DEBUG, () -> context.name() + ": NEEDS_RESET: " + why);
    }

    /** Under the device lock: MSI-X vector {@code vector} when MSI-X is on, else the ISR bit and INTx. */
    private void raise(int vector, int isrBit) {
        meters.interrupts.increment();
        if (irqs.msix().enabled()) {
            if (vector != VirtioPci.NO_VECTOR) {
                irqs.msix().signal(vector);
            }
            return;
        }
        isr |= isrBit;
        irqs.intx().setLevel(true);
    }

    // --- resets (under the device lock) ---

    private void drain() {
        if (!inFlight.fence(DRAIN_MILLIS)) {
            log.log(Level.WARNING, () -> context.name() + ": " + inFlight.count() + " request(s) still in flight after "
                    + DRAIN_MILLIS + " ms at reset; their completions are dropped");
        }
    }

    private void virtioReset() {
        drain();
        common.reset();
        isr = 0;
        irqs.intx().setLevel(false);
    }

    @Override
    public void reset() {
        virtioReset();
        irqs.reset();
        config.reset();
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
    }

    @Override
    protected RegionMap regions() {
        return regions;
    }

    @Override
    protected PciInterrupts irqs() {
        return irqs;
    }
}
