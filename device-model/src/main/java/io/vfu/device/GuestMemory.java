package io.vfu.device;

import java.nio.ByteBuffer;

/**
 * Guest memory as the device sees it through its bus-master address space. The server implements it over
 * mmapped DMA regions or {@code VFIO_USER_DMA_READ}/{@code DMA_WRITE}; either may block, so the model only calls
 * it from {@link VfioDevice#work} (or, its direct forms only, {@link VfioDevice#workDirect}), never under the
 * device lock.
 */
public interface GuestMemory {

    /** Fill {@code dst}'s remaining bytes from guest address {@code address}, or throw. */
    void read(long address, ByteBuffer dst) throws GuestMemoryException;

    /** Write {@code src}'s remaining bytes to guest address {@code address}, or throw. */
    void write(long address, ByteBuffer src) throws GuestMemoryException;

    /**
     * Zero-copy access: when guest memory {@code [address, address + length)} lies in one window the server has
     * mapped, runs {@code access} on exactly those bytes and returns true; the window cannot go away while
     * {@code access} runs (a DMA_UNMAP waits for it), so keep it short and never keep the segment. Returns false,
     * without calling {@code access}, when the range is reachable only by message (or spans windows): then use
     * {@link #read} and {@link #write}. A device doing file or network I/O hands the segment straight to the
     * system call.
     *
     * @param write whether {@code access} writes guest memory (the window must allow it)
     * @throws GuestMemoryException when no window holds the range or its permission is missing, or when
     *                              {@code access} fails (its exception is the cause)
     */
    default boolean direct(long address, long length, boolean write, DirectAccess access)
            throws GuestMemoryException {
        return false;
    }

    /**
     * Zero-copy access to several ranges at once (a scatter-gather list): when every range
     * {@code [addresses[i], addresses[i] + lengths[i])}, {@code i < count}, lies in one mapped window, runs
     * {@code access} on all of them together (a device hands them to one preadv(2) or pwritev(2)) and returns
     * true; otherwise returns false without calling it. The same rules as {@link #direct(long, long, boolean,
     * DirectAccess)} hold.
     */
    default boolean direct(long[] addresses, long[] lengths, int count, boolean write, VectoredAccess access)
            throws GuestMemoryException {
        return false;
    }

    /** What the vectored {@link #direct} runs on the mapped ranges. */
    @FunctionalInterface
    interface VectoredAccess {
        /** Works on {@code memory[0..count)}, the ranges asked for, in order. */
        void access(java.lang.foreign.MemorySegment[] memory, int count) throws java.io.IOException;
    }

    /** What {@link #direct} runs on the mapped bytes. */
    @FunctionalInterface
    interface DirectAccess {
        /** Works on {@code memory}, the guest bytes asked for (its size is the length asked for). */
        void access(java.lang.foreign.MemorySegment memory) throws java.io.IOException;
    }
}
