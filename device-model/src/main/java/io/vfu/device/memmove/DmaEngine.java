package io.vfu.device.memmove;

import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.ImsStore;
import io.vfu.device.pci.MsixTable;

import static io.vfu.device.memmove.DmaDescriptor.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A memmove engine with one descriptor ring in guest memory (see LAYOUT.md for registers and formats).
 *
 * <h2>Threading contract</h2>
 * The registers are written through {@link MemmoveImsDevice#write} under the device lock; a DMA_TAIL write only
 * records work and calls the {@code workAvailable} hook (under the lock; it must only schedule; it is called
 * again when Bus Master Enable is set with work queued, and work never runs while it is clear). A server
 * worker then calls {@link #runPending(GuestMemory, DeviceLock)} <em>without</em> the device lock. For each
 * descriptor it takes the lock briefly to claim it, reads the descriptor, copies and writes the completion
 * record through {@link GuestMemory} with the lock released (guest memory may block on the socket), then takes
 * the lock again to advance the head, count and raise the interrupt. At most one worker runs per device; a
 * second concurrent call returns 0 at once and the running one picks up the work. A reset or ring disable
 * while a descriptor is in flight discards its completion (no head advance, no interrupt).
 *
 * <p>{@link #runDirect(GuestMemory, DeviceLock)} is the same loop for the thread that served the doorbell, with
 * guest memory only through {@link GuestMemory#direct} and a budget ({@link #DIRECT_DESCRIPTORS},
 * {@link #DIRECT_BYTES}): what it cannot finish that way is left, head unmoved, to {@code runPending}.
 *
 * <h2>Errors</h2>
 * A guest-memory access that fails counts as a fault of its descriptor, whatever it throws:
 * {@link GuestMemoryException}, a runtime exception, or the {@code InternalError} the JVM raises for a bus error
 * in memory a client shrank, which it may deliver just after the access returned.
 * A bad descriptor never throws or stalls the ring: it completes with an error status in its completion record
 * (if that can be written) and in DMA_LAST_STATUS, counts in DMA_ERRORS, and still raises its interrupt.
 */
public final class DmaEngine {

    private static final int CHUNK = 64 * 1024;
    /** What one doorbell may have its own thread copy before the worker takes over: descriptors and bytes. */
    static final int DIRECT_DESCRIPTORS = 4;
    static final long DIRECT_BYTES = 64 * 1024;

    private final MsixTable msix;
    private final ImsStore ims;
    private final ConfigSpace configSpace;
    private final int maxTransfer;
    private final Runnable workAvailable;
    /**
     * The thread that runs the engine, or null. Taken only from null, given back under the lock by the claim that
     * finds the ring empty: so a runner asks "is it still mine?", which no other thread can answer for it.
     */
    private final AtomicReference<Thread> runner = new AtomicReference<>();

    // Register state, guarded by the device lock.
    private long ringBase;
    private int ringSize;
    private boolean enabled;
    private int head;
    private int tail;
    private int completed;
    private int errorCount;
    private int lastStatus;
    private int generation;

    // Hand-over between the locked steps and the unlocked part, for the runner only; published by the lock.
    private long workAddress;
    private int workGeneration;
    private int resultStatus;
    private int resultFlags;

    // Buffers of the runner (one thread at a time), allocated once.
    private final ByteBuffer descriptor = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer record = ByteBuffer.allocate(RECORD_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private ByteBuffer chunk;
    private final Runnable claimStep = this::claim;
    private final Runnable finishStep = this::finish;

    DmaEngine(MsixTable msix, ImsStore ims, ConfigSpace configSpace, int maxTransfer, Runnable workAvailable) {
        this.msix = msix;
        this.configSpace = configSpace;
        this.ims = ims;
        this.maxTransfer = maxTransfer;
        this.workAvailable = workAvailable;
    }

    /**
     * Process every descriptor between head and tail, then return how many completed. Call from a worker
     * without holding the device lock; {@code lock} is used for the short claim/finish steps.
     */
    public int runPending(GuestMemory memory, DeviceLock lock) {
        Thread self = Thread.currentThread();
        if (!runner.compareAndSet(null, self)) {
            return 0;
        }
        int done = 0;
        try {
            while (true) {
                lock.run(claimStep); // gives the engine back under the lock when the ring is empty
                if (runner.get() != self) {
                    return done;
                }
                execute(memory);
                lock.run(finishStep);
                done++;
            }
        } finally {
            // Rule: whatever escapes (a failing GuestMemory), the engine is left idle, so the next runPending
            // (another client, or after reset) can run it; it is never stuck "running" with no worker.
            runner.compareAndSet(self, null);
        }
    }

    /**
     * Runs pending descriptors on the calling thread (the one that served the doorbell) without the device lock,
     * touching guest memory only through {@link GuestMemory#direct}, which neither waits nor sends a message;
     * at most {@link #DIRECT_DESCRIPTORS} descriptors and {@link #DIRECT_BYTES} bytes.
     *
     * @return true when the ring is empty; false when the worker must go on: another thread runs the engine, a
     *         range is not directly reachable, any failure (the worker judges and reports it), or the budget is
     *         spent. The descriptor it stopped at is not completed (the head stays) and nothing of it was written
     */
    public boolean runDirect(GuestMemory memory, DeviceLock lock) {
        Thread self = Thread.currentThread();
        if (!runner.compareAndSet(null, self)) {
            return false; // Rule: another runner may stop before it sees this work; a worker run is cheap insurance.
        }
        long budget = DIRECT_BYTES;
        try {
            for (int n = 0; n < DIRECT_DESCRIPTORS; n++) {
                lock.run(claimStep); // gives the engine back under the lock when the ring is empty
                if (runner.get() != self) {
                    return true;
                }
                long copied = executeDirect(memory, budget);
                if (copied < 0) {
                    return false;
                }
                budget -= copied;
                lock.run(finishStep);
            }
            return false;
        } finally {
            runner.compareAndSet(self, null);
        }
    }

    /**
     * {@link #execute} in directly mapped memory, with the same outcome for every fault: the bytes copied, with
     * resultStatus/resultFlags set, or -1 when a range is not directly reachable or over {@code budget} (nothing
     * is completed then, and the worker does it all).
     */
    private long executeDirect(GuestMemory memory, long budget) {
        descriptor.clear();
        try {
            if (!memory.direct(workAddress, SIZE, false, m -> MemorySegment.ofBuffer(descriptor).copyFrom(m))) {
                return -1;
            }
        } catch (GuestMemoryException | RuntimeException | InternalError e) {
            resultStatus = STATUS_DESCRIPTOR_FAULT;
            return 0;
        }
        long src = descriptor.getLong(SRC);
        long dst = descriptor.getLong(DST);
        long length = descriptor.getInt(LENGTH) & 0xFFFFFFFFL;
        int flags = descriptor.getInt(FLAGS);
        long completion = descriptor.getLong(COMPLETION);
        int status = validate(src, dst, length, flags);
        long copied = 0;
        // Rule: the record is known to be reachable here before anything is copied, so a copy is never made twice.
        if (completion != 0 && !recordReachable(memory, completion)) {
            return -1;
        }
        if (status == STATUS_SUCCESS) {
            if (length > budget) {
                return -1;
            }
            // Rule: the budget is at most one CHUNK, so a fault copies nothing, as the chunked copy reports it.
            status = copyDirect(memory, src, dst, length);
            if (status < 0) {
                return -1;
            }
            copied = status == STATUS_SUCCESS ? length : 0;
        }
        if (completion != 0) {
            record.clear();
            record.putInt(0, status).putInt(4, (int) copied);
            try {
                if (!memory.direct(completion, RECORD_SIZE, true, m -> m.copyFrom(MemorySegment.ofBuffer(record)))) {
                    return -1;
                }
            } catch (GuestMemoryException | RuntimeException | InternalError e) {
                status = status == STATUS_SUCCESS ? STATUS_RECORD_FAULT : status;
            }
        }
        resultFlags = flags;
        resultStatus = status;
        return copied;
    }

    /** Whether the completion record lies in directly mapped memory; a fault there is the record write's to report. */
    private static boolean recordReachable(GuestMemory memory, long completion) {
        try {
            return memory.direct(completion, RECORD_SIZE, true, m -> { });
        } catch (GuestMemoryException | RuntimeException | InternalError e) {
            return true;
        }
    }

    /**
     * Copies src to dst through the chunk buffer (one window at a time, so a fault is the source's or the
     * destination's, as in {@link #copy}): STATUS_SUCCESS, a read or write fault, or -1 (nothing written) when
     * either range is not directly reachable. {@code length} is at most one CHUNK.
     */
    private int copyDirect(GuestMemory memory, long src, long dst, long length) {
        if (chunk == null) {
            chunk = ByteBuffer.allocate(CHUNK);
        }
        chunk.clear().limit((int) length);
        MemorySegment bytes = MemorySegment.ofBuffer(chunk);
        try {
            if (!memory.direct(src, length, false, bytes::copyFrom)) {
                return -1;
            }
        } catch (GuestMemoryException | RuntimeException | InternalError e) {
            return STATUS_READ_FAULT;
        }
        try {
            return memory.direct(dst, length, true, m -> m.copyFrom(bytes)) ? STATUS_SUCCESS : -1;
        } catch (GuestMemoryException | RuntimeException | InternalError e) {
            return STATUS_WRITE_FAULT;
        }
    }

    /**
     * True if the engine can make progress: ring enabled, head != tail, and Bus Master Enable set (a function
     * must not master the bus without it). Device lock held.
     */
    public boolean hasWork() {
        return ringNonEmpty() && configSpace.busMaster();
    }

    /** Descriptors are queued, whether or not bus mastering allows running them (BAR0 STATUS bit 5). */
    boolean ringNonEmpty() {
        return enabled && head != tail;
    }

    /** Command.Bus Master Enable changed: queued work may now run. Device lock held. */
    void busMasterChanged() {
        if (hasWork()) {
            workAvailable.run();
        }
    }

    private void claim() {
        if (!hasWork()) {
            runner.set(null);
            return;
        }
        workAddress = ringBase + (long) head * SIZE;
        workGeneration = generation;
    }

    private void finish() {
        if (workGeneration != generation) {
            return; // Rule: a reset/disable during the copy discards the completion.
        }
        head = (head + 1) & (ringSize - 1);
        completed++;
        lastStatus = resultStatus;
        if (resultStatus != STATUS_SUCCESS) {
            errorCount++;
        }
        if (resultStatus >= STATUS_READ_FAULT) {
            configSpace.setReceivedMasterAbort(); // Rule: a failed bus-master access is visible in Status.
        }
        // Rule: only a selector that names an existing vector or entry raises anything, whatever else was wrong
        // with the descriptor (reserved flag bits are judged before the selector).
        if (resultStatus == STATUS_DESCRIPTOR_FAULT || !selectorValid(resultFlags)) {
            return;
        }
        int index = resultFlags >>> 16;
        switch (resultFlags & 3) {
            case IRQ_MSIX -> msix.signal(index);
            case IRQ_IMS -> ims.signal(index);
            default -> { }
        }
    }

    /** The unlocked part: read, validate, copy, write the record. Sets resultStatus/resultFlags. */
    private void execute(GuestMemory memory) {
        descriptor.clear();
        try {
            memory.read(workAddress, descriptor);
        } catch (GuestMemoryException | RuntimeException | InternalError e) {
            resultStatus = STATUS_DESCRIPTOR_FAULT;
            return;
        }
        long src = descriptor.getLong(SRC);
        long dst = descriptor.getLong(DST);
        long length = descriptor.getInt(LENGTH) & 0xFFFFFFFFL;
        int flags = descriptor.getInt(FLAGS);
        long completion = descriptor.getLong(COMPLETION);
        resultFlags = flags;
        int status = validate(src, dst, length, flags);
        long copied = 0;
        if (status == STATUS_SUCCESS) {
            try {
                copied = copy(memory, src, dst, length);
            } catch (CopyFault f) {
                status = f.status;
                copied = f.copied;
            }
        }
        if (completion != 0) {
            record.clear();
            record.putInt(0, status).putInt(4, (int) copied);
            try {
                memory.write(completion, record);
            } catch (GuestMemoryException | RuntimeException | InternalError e) {
                status = status == STATUS_SUCCESS ? STATUS_RECORD_FAULT : status;
            }
        }
        resultStatus = status;
    }

    private int validate(long src, long dst, long length, int flags) {
        if ((flags & FLAGS_RESERVED) != 0) {
            return STATUS_BAD_FLAGS;
        }
        if (!selectorValid(flags)) {
            return STATUS_BAD_IRQ;
        }
        if (length == 0) {
            return STATUS_ZERO_LENGTH;
        }
        if (length > maxTransfer) {
            return STATUS_TOO_LONG;
        }
        // Rule: neither range may wrap past 2^64 (unsigned: end - 1 must not be below start).
        if (Long.compareUnsigned(src + length - 1, src) < 0 || Long.compareUnsigned(dst + length - 1, dst) < 0) {
            return STATUS_ADDRESS_OVERFLOW;
        }
        // Rule: memmove between overlapping ranges is refused (the engine copies forward in chunks).
        if (Long.compareUnsigned(src, dst + length) < 0 && Long.compareUnsigned(dst, src + length) < 0) {
            return STATUS_OVERLAP;
        }
        return STATUS_SUCCESS;
    }

    /** Whether the flags' interrupt selector is none, or names an MSI-X vector or IMS entry that exists. */
    private boolean selectorValid(int flags) {
        int kind = flags & 3;
        int index = flags >>> 16;
        return kind != 3 && !(kind == IRQ_MSIX && index >= msix.size()) && !(kind == IRQ_IMS && index >= ims.count());
    }

    private static final class CopyFault extends Exception {
        final int status;
        final long copied;

        CopyFault(int status, long copied) {
            super(null, null, false, false);
            this.status = status;
            this.copied = copied;
        }
    }

    private long copy(GuestMemory memory, long src, long dst, long length) throws CopyFault {
        if (chunk == null) {
            chunk = ByteBuffer.allocate(CHUNK);
        }
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(CHUNK, length - done);
            chunk.clear().limit(n);
            try {
                memory.read(src + done, chunk);
            } catch (GuestMemoryException | RuntimeException | InternalError e) {
                throw new CopyFault(STATUS_READ_FAULT, done);
            }
            chunk.flip();
            try {
                memory.write(dst + done, chunk);
            } catch (GuestMemoryException | RuntimeException | InternalError e) {
                throw new CopyFault(STATUS_WRITE_FAULT, done);
            }
            done += n;
        }
        return done;
    }

    // ---- register interface (device lock held) ----

    int readRegister(int offset) {
        return switch (offset) {
            case DeviceRegisters.DMA_RING_BASE_LO -> (int) ringBase;
            case DeviceRegisters.DMA_RING_BASE_HI -> (int) (ringBase >>> 32);
            case DeviceRegisters.DMA_RING_SIZE -> ringSize;
            case DeviceRegisters.DMA_CONTROL -> enabled ? 1 : 0;
            case DeviceRegisters.DMA_HEAD -> head;
            case DeviceRegisters.DMA_TAIL -> tail;
            case DeviceRegisters.DMA_COMPLETED -> completed;
            case DeviceRegisters.DMA_ERRORS -> errorCount;
            case DeviceRegisters.DMA_LAST_STATUS -> lastStatus;
            default -> 0;
        };
    }

    void writeRegister(int offset, int value, ErrorRegister errors) {
        switch (offset) {
            case DeviceRegisters.DMA_RING_BASE_LO -> {
                if (!enabled) {
                    ringBase = (ringBase & 0xFFFFFFFF00000000L) | (value & 0xFFFFFFFFL);
                }
            }
            case DeviceRegisters.DMA_RING_BASE_HI -> {
                if (!enabled) {
                    ringBase = (ringBase & 0xFFFFFFFFL) | ((long) value << 32);
                }
            }
            case DeviceRegisters.DMA_RING_SIZE -> {
                if (!enabled) {
                    ringSize = value;
                }
            }
            case DeviceRegisters.DMA_CONTROL -> control((value & 1) != 0, errors);
            case DeviceRegisters.DMA_TAIL -> {
                // Rule: a tail outside the ring is refused visibly, never wrapped silently.
                if (!enabled || Integer.compareUnsigned(value, ringSize) >= 0) {
                    errors.report(ErrorRegister.BAD_DMA_TAIL, value);
                    return;
                }
                tail = value;
                if (hasWork()) {
                    workAvailable.run();
                }
            }
            default -> { }
        }
    }

    private void control(boolean enable, ErrorRegister errors) {
        if (enable == enabled) {
            return;
        }
        if (enable) {
            // Rule: ring size is a power of two up to 65536 entries; base is descriptor-aligned and fits.
            boolean sizeOk = ringSize > 0 && ringSize <= 65536 && Integer.bitCount(ringSize) == 1;
            if (!sizeOk || (ringBase & (SIZE - 1)) != 0
                    || Long.compareUnsigned(ringBase + (long) ringSize * SIZE - 1, ringBase) < 0) {
                errors.report(ErrorRegister.BAD_DMA_RING, ringSize);
                return;
            }
        }
        enabled = enable;
        head = 0;
        tail = 0;
        generation++;
    }

    void reset() {
        enabled = false;
        ringBase = 0;
        ringSize = 0;
        head = 0;
        tail = 0;
        completed = 0;
        errorCount = 0;
        lastStatus = 0;
        generation++;
    }
}
