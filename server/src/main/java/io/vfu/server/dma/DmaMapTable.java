package io.vfu.server.dma;

import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The DMA windows of one session (spec {@code VFIO_USER_DMA_MAP} / {@code VFIO_USER_DMA_UNMAP}). Windows never
 * overlap; a map over an existing window fails with EEXIST, an unmap must name a window exactly.
 *
 * <p>Locking: a direct (mmap) access holds the read lock for the copy, and unmap takes the write lock, so unmap
 * returns only after in-flight direct DMA into that window has finished (spec: "release all references ...
 * before replying"). A message-DMA access only <em>resolves</em> its window under the lock and never holds it
 * across the socket round trip: holding it would let a client that waits for its DMA_UNMAP reply before
 * answering our DMA_READ deadlock the session.
 */
public final class DmaMapTable implements AutoCloseable {

    /** Releases what backs a window (munmap and close the fd); called exactly once per window. */
    @FunctionalInterface
    public interface Release {
        void release();
    }

    private record Entry(DmaMapping mapping, Release release) { }

    private final TreeMap<Long, Entry> windows = new TreeMap<>(Comparator.comparing(Long::longValue, Long::compareUnsigned));
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final int maxMaps;
    /** Windows mapped so far, and whether the table closed: what a DMA waiting for a window watches. */
    private final Object mapSignal = new Object();
    private long mapsMade;
    private boolean closed;

    /** @param maxMaps the negotiated {@code max_dma_maps} */
    public DmaMapTable(int maxMaps) {
        this.maxMaps = maxMaps;
    }

    /**
     * Adds a window. On failure {@code release} is NOT called: the caller still owns what it passed.
     *
     * @throws MessageException EEXIST if it overlaps a window, ENOSPC past {@code max_dma_maps}
     */
    public void map(DmaMapping mapping, Release release) throws MessageException {
        lock.writeLock().lock();
        try {
            if (windows.size() >= maxMaps) {
                throw new MessageException(Errno.ENOSPC, "max_dma_maps (" + maxMaps + ") reached");
            }
            Map.Entry<Long, Entry> below = windows.floorEntry(mapping.last());
            // Rule: the only window that can overlap is the one starting at or below our last byte.
            if (below != null && below.getValue().mapping().overlaps(mapping.address(), mapping.last())) {
                throw new MessageException(Errno.EEXIST, "DMA window overlaps an existing one");
            }
            windows.put(mapping.address(), new Entry(mapping, release));
        } finally {
            lock.writeLock().unlock();
        }
        synchronized (mapSignal) {
            mapsMade++;
            mapSignal.notifyAll();
        }
    }

    /** How many windows were mapped so far (to wait for the next with {@link #awaitMapAfter}). */
    public long mapsMade() {
        synchronized (mapSignal) {
            return mapsMade;
        }
    }

    /**
     * Waits up to {@code timeoutNanos} for a window mapped after {@code seen} windows were; false when none came
     * in time, the table closed, or the thread was interrupted (its flag is kept).
     */
    public boolean awaitMapAfter(long seen, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (mapSignal) {
            while (mapsMade == seen && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(mapSignal, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return mapsMade != seen;
        }
    }

    /**
     * Removes the window that starts at {@code address} with exactly {@code size}, after in-flight direct DMA
     * into it has finished, and releases it.
     *
     * @throws MessageException ENOENT when no window matches exactly
     */
    public DmaMapping unmap(long address, long size) throws MessageException {
        Entry e;
        lock.writeLock().lock();
        try {
            e = windows.get(address);
            if (e == null || e.mapping().size() != size) {
                throw new MessageException(Errno.ENOENT, "no DMA window matches exactly");
            }
            windows.remove(address);
        } finally {
            lock.writeLock().unlock();
        }
        e.release().release();
        return e.mapping();
    }

    /** Removes and releases every window (DMA_UNMAP with the unmap-all flag, and session end); returns them. */
    public List<DmaMapping> unmapAll() {
        List<Entry> all;
        lock.writeLock().lock();
        try {
            all = new ArrayList<>(windows.values());
            windows.clear();
        } finally {
            lock.writeLock().unlock();
        }
        for (Entry e : all) {
            e.release().release();
        }
        return all.stream().map(Entry::mapping).toList();
    }

    public int size() {
        lock.readLock().lock();
        try {
            return windows.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Bytes from {@code address} to the end of the window holding it, 0 if no window holds it. A guest behind an
     * IOMMU maps each page separately, so a transfer that is contiguous in IOVA space spans adjacent windows and
     * is done window by window.
     */
    public long windowRemaining(long address) {
        lock.readLock().lock();
        try {
            DmaMapping m = holding(address, 1);
            if (m == null) {
                return 0;
            }
            long rest = m.last() - address + 1;
            // A window ending at 2^64 - 1 leaves more than any transfer can need.
            return rest <= 0 ? Long.MAX_VALUE : rest;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A direct copy into or out of mapped memory, run while the window cannot be unmapped. */
    @FunctionalInterface
    public interface DirectAccess {
        void access(MemorySegment window, long offset);
    }

    /**
     * Resolves {@code [address, address + length)} to one window with the needed permission. If the window is
     * mmap'd, runs {@code direct} under the read lock and returns empty; otherwise returns the window so the
     * caller can go by message, without any lock held.
     *
     * @throws MessageException EFAULT when the range is not inside one window, EPERM when the permission is
     *                          missing, EINVAL for a non-positive length
     */
    public Optional<DmaMapping> access(long address, long length, boolean write, DirectAccess direct)
            throws MessageException {
        if (length <= 0) {
            throw new MessageException(Errno.EINVAL, "DMA length must be positive");
        }
        lock.readLock().lock();
        try {
            DmaMapping m = holding(address, length);
            if (m == null) {
                throw new MessageException(Errno.EFAULT, "DMA range is not inside one mapped window");
            }
            if (!m.allows(write)) {
                throw new MessageException(Errno.EPERM, "DMA window does not allow " + (write ? "writes" : "reads"));
            }
            if (m.segment().isPresent()) {
                direct.access(m.segment().get(), address - m.address());
                return Optional.empty();
            }
            return Optional.of(m);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Resolves each range {@code [addresses[i], addresses[i] + lengths[i])}, {@code i < count}, to mmap'd memory
     * and, only if every one is inside one mmap'd window with the permission, runs {@code direct} on all of them
     * under one read lock (so no window can be unmapped meanwhile).
     *
     * @return false, having run nothing, when some range is not in one window, lacks the permission, or is
     *         reachable only by message
     */
    public boolean accessAll(long[] addresses, long[] lengths, int count, boolean write,
            java.util.function.Consumer<MemorySegment[]> direct) {
        MemorySegment[] segments = new MemorySegment[count];
        lock.readLock().lock();
        try {
            for (int i = 0; i < count; i++) {
                if (lengths[i] <= 0) {
                    return false;
                }
                DmaMapping m = holding(addresses[i], lengths[i]);
                if (m == null || !m.allows(write) || m.segment().isEmpty()) {
                    return false;
                }
                segments[i] = m.segment().get().asSlice(addresses[i] - m.address(), lengths[i]);
            }
            direct.accept(segments);
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The window holding all of {@code [address, address + length)}, or null; call under the lock. */
    private DmaMapping holding(long address, long length) {
        Map.Entry<Long, Entry> e = windows.floorEntry(address);
        return e != null && e.getValue().mapping().contains(address, length) ? e.getValue().mapping() : null;
    }

    @Override
    public void close() {
        synchronized (mapSignal) {
            closed = true; // Rule: nobody waits for a window of a session that ended.
            mapSignal.notifyAll();
        }
        unmapAll();
    }
}
