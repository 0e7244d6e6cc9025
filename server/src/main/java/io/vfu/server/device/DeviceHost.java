package io.vfu.server.device;

import io.vfu.device.DeviceContext;
import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.Interrupts;
import io.vfu.device.IrqTarget;
import io.vfu.device.MessageSink;
import io.vfu.device.VfioDevice;
import io.vfu.device.pci.InterruptStats;
import io.vfu.server.metrics.DeviceMetrics;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One served device: the {@link VfioDevice}, the lock that serialises every call into it, and its worker.
 * It outlives client sessions (spec "Client Disconnection": device state is retained); a session attaches its
 * posted-write path and guest memory while it is connected.
 */
public final class DeviceHost implements AutoCloseable {

    /** What a connected session lends the device: its connection (for posted writes) and guest memory. */
    public interface Attachment {
        GuestMemory guestMemory();

        /** The client's connection, where posted writes go. */
        io.vfu.transport.Connection connection();
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeviceHost.class);

    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final DeviceLock deviceLock = this::runLocked;
    private final VfioDevice function;
    private final Interrupts interrupts;
    private final int regionCount;
    private final int irqCount;
    private final DeviceMetrics metrics;
    private final ExecutorService dmaWorker;
    // Guarded by the lock: the thread inside the outermost write(), and whether the device asked for work then.
    private Thread servingWrite;
    private boolean workAsked;
    private final AtomicBoolean dmaScheduled = new AtomicBoolean();
    private volatile Attachment attachment;
    /** Memory the device shares with clients, per region. */
    private final SharedRegions shared;
    private long postedWithoutClient;
    /** Posted writes the device raised, queued under its lock and sent when the lock is released. */
    private final PostedWrites posted = new PostedWrites();

    /**
     * The device {@code create} makes with this host's context, with its own worker thread.
     *
     * @throws IllegalArgumentException (or any exception {@code create} throws) when it cannot be made
     */
    public DeviceHost(String name, java.util.function.Function<DeviceContext, VfioDevice> create,
            DeviceMetrics metrics) {
        this.name = name;
        this.metrics = metrics;
        this.shared = new SharedRegions(name);
        this.dmaWorker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vfu-work-" + name);
            t.setDaemon(true);
            return t;
        });
        try {
            this.function = java.util.Objects.requireNonNull(create.apply(new Context()), "no device was made");
        } catch (RuntimeException e) {
            dmaWorker.shutdownNow();
            shared.close();
            throw e;
        }
        this.interrupts = function.interrupts();
        this.regionCount = function.regionCount();
        this.irqCount = interrupts.count();
    }

    /**
     * Regions of the device, fixed for its lifetime: read without the lock, so starting a session makes no
     * device call (a device call may have to flush posted writes to a client that stopped reading).
     */
    public int regionCount() {
        return regionCount;
    }

    /** IRQ indexes of the device, fixed for its lifetime (see {@link #regionCount()}). */
    public int irqCount() {
        return irqCount;
    }

    public String name() {
        return name;
    }

    public DeviceMetrics metrics() {
        return metrics;
    }

    /** Runs {@code action} on the device under its lock. */
    public <T> T withDevice(java.util.function.Function<VfioDevice, T> action) {
        lock.lock();
        try {
            return action.apply(function);
        } finally {
            unlock();
        }
    }

    /** Runs {@code action} on the device under its lock. */
    public void onDevice(Consumer<VfioDevice> action) {
        lock.lock();
        try {
            action.accept(function);
        } finally {
            unlock();
        }
    }

    /**
     * Region read under the device lock, without a lambda (the steady-state path allocates nothing): fills
     * {@code dst} from its position to its limit.
     */
    public void read(int region, long offset, java.nio.ByteBuffer dst) {
        lock.lock();
        try {
            function.read(region, offset, dst);
        } finally {
            unlock();
        }
    }

    /**
     * Region write under the device lock, without a lambda: {@code src} from its position to its limit. Work the
     * write asked for is first offered to this thread once the lock is released ({@link VfioDevice#workDirect}),
     * then, if any is left, to the worker.
     */
    public void write(int region, long offset, java.nio.ByteBuffer src) {
        lock.lock();
        boolean outermost = lock.getHoldCount() == 1;
        boolean offer = false;
        boolean written = false;
        try {
            if (outermost) {
                servingWrite = Thread.currentThread();
            }
            function.write(region, offset, src);
            written = true;
        } finally {
            if (outermost) {
                servingWrite = null;
                offer = workAsked;
                workAsked = false;
            }
            unlock();
            if (offer && !written) {
                scheduleDma(); // Rule: work asked for by a write that then failed still runs, on the worker.
            }
        }
        if (offer) {
            runDirect();
        }
    }

    /**
     * Rule: the thread that served a doorbell runs the work itself when the device can finish it in directly
     * mapped memory (no wait, no message, so the socket it reads is never needed); the worker gets the rest,
     * and everything when no client is attached (attach() schedules it).
     */
    private void runDirect() {
        Attachment a = attachment;
        boolean done = false;
        if (a != null) {
            try {
                done = function.workDirect(a.guestMemory(), deviceLock);
            } catch (RuntimeException | InternalError e) {
                LOG.debug("{}: direct work left to the worker: {}", name, e.toString());
            }
        }
        if (!done) {
            scheduleDma();
        }
    }

    /**
     * Ends a device call: takes the interrupt targets the call dropped (a reset, an FLR), releases the lock, then
     * closes them and sends what the call posted.
     */
    private void unlock() {
        // Rule: the steady-state path allocates nothing: no list, no iterator unless something was released.
        List<IrqTarget> released = interrupts.hasReleased() && lock.getHoldCount() == 1
                ? interrupts.takeReleased() : null;
        lock.unlock();
        if (released != null) {
            released.forEach(DeviceHost::close);
        }
        flushPostedWrites();
    }

    /** Rule: a target the device let go of is closed by the server, which created it (the model never does). */
    private static void close(IrqTarget t) {
        if (t instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing an interrupt target failed: {}", e.getMessage());
            }
        }
    }

    /**
     * Rule: posted writes the device raised under its lock are sent once the lock is released, by the thread
     * that raised them, after every device call (see {@link PostedWrites}); never while the lock
     * is held (a nested call leaves them to the outermost).
     */
    private void flushPostedWrites() {
        Attachment a = attachment;
        if (a != null && !lock.isHeldByCurrentThread()) {
            try {
                int n = posted.drain(a.connection());
                if (n > 0) {
                    metrics.dma(DeviceMetrics.DmaMode.MESSAGE, DeviceMetrics.DmaDirection.WRITE, 4L * n);
                }
            } catch (java.io.IOException e) {
                // The connection is going away; the session's end releases everything.
                LOG.debug("{}: posted write not sent: {}", name, e.getMessage());
            }
        }
    }

    private void runLocked(Runnable action) {
        lock.lock();
        try {
            action.run();
        } finally {
            unlock();
        }
    }

    /** The device's interrupt statistics, safe to read without the lock (for metrics scrapes), or null. */
    public InterruptStats stats() {
        return function.interruptStats();
    }

    /** A session connects: posted writes and DMA now reach its client; queued DMA work resumes. */
    public void attach(Attachment a) {
        attachment = a;
        onDevice(VfioDevice::attached);
        scheduleDma();
    }

    /**
     * The session ends: drop its interrupt targets (returned for closing) and stop routing to it. Device state
     * stays for the next client.
     */
    public List<IrqTarget> detach(Attachment a) {
        return withDevice(f -> {
            if (attachment == a) {
                attachment = null;
                posted.clear(); // Rule: writes raised for a client that left never reach the next one.
            }
            List<IrqTarget> dropped = f.interrupts().releaseSession();
            f.detached();
            return dropped;
        });
    }

    /** What the device borrows from its host: posted writes and the worker. */
    private final class Context implements DeviceContext {
        @Override
        public String name() {
            return name;
        }

        @Override
        public MessageSink postedWrites() {
            return DeviceHost.this::postWrite;
        }

        @Override
        public void requestWork() {
            scheduleDma();
        }

        @Override
        public java.lang.foreign.MemorySegment sharedMemory(int region, long size) {
            return shared.create(region, size);
        }

        @Override
        public io.vfu.device.DeviceMeters meters() {
            return metrics.deviceMeters();
        }
    }

    /** The memfd behind region {@code region}'s mmap areas, or -1 when it has none (owned by this host). */
    public int sharedMemoryFd(int region) {
        return shared.fd(region);
    }

    /** Bytes of region {@code region} the shared memory covers (from region offset 0), 0 when it has none. */
    public long sharedMemorySize(int region) {
        return shared.size(region);
    }

    // Called by the model under the device lock.
    private void postWrite(long address, int data) {
        Attachment a = attachment;
        if (a == null) {
            // Rule: with no client there is no bus to write to; count it rather than fail silently.
            postedWithoutClient++;
            LOG.debug("{}: posted write with no client attached was dropped", name);
            return;
        }
        if (!posted.add(a.connection(), address, data)) {
            // Rule: a client that reads nothing while the device raises PostedWrites.MAX writes loses the
            // excess (counted), rather than a device call waiting for it.
            postedWithoutClient++;
        }
    }

    /** Posted writes dropped: no client was attached, or it had {@link PostedWrites#MAX} waiting. */
    public long postedWithoutClient() {
        return postedWithoutClient;
    }

    // Called by the model under the device lock: only schedules, never runs DMA here.
    private void scheduleDma() {
        if (servingWrite == Thread.currentThread()) {
            workAsked = true; // Rule: offered to the thread serving the write once it releases the lock.
            return;
        }
        if (dmaScheduled.compareAndSet(false, true)) {
            try {
                dmaWorker.execute(this::runDma);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                dmaScheduled.set(false);
            }
        }
    }

    private void runDma() {
        dmaScheduled.set(false);
        Attachment a = attachment;
        if (a == null) {
            return; // Work stays queued in the ring; attach() reschedules it.
        }
        // Completion interrupts go out as each locked step ends (unlock()), after the data they announce.
        try {
            function.work(a.guestMemory(), deviceLock);
        } catch (RuntimeException | InternalError e) {
            // Rule: a failure in one run never ends the worker; the engine is idle again (runPending) and the
            // next doorbell or client runs it.
            LOG.warn("{}: DMA worker failed", name, e);
        }
    }

    @Override
    public void close() {
        dmaWorker.shutdownNow();
        try {
            dmaWorker.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Rule: shared memory is unmapped only when no device call can be touching it: the worker has stopped
        // and the device lock is ours (a touch after munmap would crash the process, or hit another mapping).
        lock.lock();
        try {
            // Rule: the device lets go of its files and threads before its shared memory goes (it may touch it).
            function.close();
        } catch (RuntimeException e) {
            LOG.warn("{}: closing the device failed", name, e);
        } finally {
            shared.close();
            lock.unlock();
        }
    }
}
