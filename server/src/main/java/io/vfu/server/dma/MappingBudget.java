package io.vfu.server.dma;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many memory mappings DMA windows may hold in this process, over every device and session.
 *
 * <p>Linux allows a process {@code vm.max_map_count} mappings (65,530 by default); past it, mmap fails, and so
 * does the JVM's own next mapping (a thread stack, heap growth), which kills the whole process. Guest memory
 * mapped for direct DMA is the one use a client controls, so it gets a budget that leaves the JVM room: the
 * limit minus a headroom of a quarter of it, at least 16,384 (a 1,000-device server runs about 2 threads per
 * device, each thread stack 2 mappings, plus the JVM's own few hundred).
 *
 * <p>Address space is budgeted too: a client can pass a huge sparse file, and mapping a few of those whole
 * would leave the JVM no room to map anything. DMA mappings may hold at most {@link #ADDRESS_SPACE} bytes
 * (32 TiB, a quarter of x86-64's 47-bit user space: room for 1,000 guests of 24 GiB).
 */
public final class MappingBudget {

    private static final Path MAX_MAP_COUNT = Path.of("/proc/sys/vm/max_map_count");
    /** The kernel's default, used when /proc cannot be read. */
    private static final long DEFAULT_MAX_MAP_COUNT = 65_530;
    private static final long MIN_HEADROOM = 16_384;

    /** Bytes of address space DMA mappings may hold at once. */
    public static final long ADDRESS_SPACE = 32L << 40;

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    /** A budget of {@code limit} mappings (tests and explicit configuration). */
    public MappingBudget(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("mapping budget must not be negative: " + limit);
        }
        this.limit = limit;
    }

    /** The budget this machine allows: {@code vm.max_map_count} less the JVM's headroom. */
    public static MappingBudget forThisProcess() {
        return new MappingBudget(fromMaxMapCount(maxMapCount()));
    }

    /**
     * The one budget of this process at this machine's limit, shared by every server in it (embedded servers
     * too: {@code vm.max_map_count} is per process, not per server).
     */
    public static MappingBudget process() {
        return Process.BUDGET;
    }

    private static final class Process {
        static final MappingBudget BUDGET = forThisProcess();
    }

    /** The budget for a given {@code vm.max_map_count}. */
    static long fromMaxMapCount(long maxMapCount) {
        return Math.max(0, maxMapCount - Math.max(MIN_HEADROOM, maxMapCount / 4));
    }

    private static long maxMapCount() {
        try {
            // Rule: read /proc files as a stream; Files.readString trusts their reported size and may stop short.
            try (java.io.BufferedReader r = Files.newBufferedReader(MAX_MAP_COUNT)) {
                return Long.parseLong(String.valueOf(r.readLine()).trim());
            }
        } catch (IOException | NumberFormatException e) {
            return DEFAULT_MAX_MAP_COUNT;
        }
    }

    /**
     * Takes one mapping of {@code length} bytes from the budget; false (nothing taken) when either the count or
     * the address space is spent.
     */
    public boolean tryAcquire(long length) {
        if (length < 0 || length > ADDRESS_SPACE) {
            return false;
        }
        if (bytes.addAndGet(length) > ADDRESS_SPACE) {
            bytes.addAndGet(-length);
            return false;
        }
        while (true) {
            long u = used.get();
            if (u >= limit) {
                bytes.addAndGet(-length);
                return false;
            }
            if (used.compareAndSet(u, u + 1)) {
                return true;
            }
        }
    }

    /** Gives back one mapping of {@code length} bytes taken with {@link #tryAcquire}. */
    public void release(long length) {
        bytes.addAndGet(-length);
        if (used.decrementAndGet() < 0) {
            used.incrementAndGet();
            throw new IllegalStateException("mapping budget released more than it gave");
        }
    }

    public long limit() {
        return limit;
    }

    /** Mappings held now. */
    public long used() {
        return used.get();
    }
}
