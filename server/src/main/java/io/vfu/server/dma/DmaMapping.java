package io.vfu.server.dma;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * One DMA window the client granted with {@code VFIO_USER_DMA_MAP}: guest addresses
 * {@code [address, address + size)}, with an optional local mapping of the client's file (direct DMA).
 * Without a segment, the window is reached by {@code VFIO_USER_DMA_READ/WRITE} messages.
 *
 * @param address  base DMA address (u64 as raw bits)
 * @param size     size in bytes, &gt; 0, and {@code address + size} does not wrap past 2^64
 * @param readable the device may read it
 * @param writable the device may write it
 * @param segment  the mmap of the client's fd covering exactly this window, if one was sent
 */
public record DmaMapping(long address, long size, boolean readable, boolean writable,
                         Optional<MemorySegment> segment) {

    public DmaMapping {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive");
        }
        // Rule: the window ends at or before 2^64 (end - 1 does not wrap).
        if (Long.compareUnsigned(address + (size - 1), address) < 0) {
            throw new IllegalArgumentException("window wraps the 64-bit address space");
        }
        segment.ifPresent(s -> {
            if (s.byteSize() != size) {
                throw new IllegalArgumentException("segment size differs from the window size");
            }
        });
    }

    /** Last address inside the window (unsigned). */
    public long last() {
        return address + (size - 1);
    }

    /** Whether {@code [addr, addr + length)} lies inside this window; {@code length} is positive. */
    /** Whether the window's permission allows a write ({@code write}) or a read. */
    public boolean allows(boolean write) {
        return write ? writable : readable;
    }

    public boolean contains(long addr, long length) {
        // Rule: bounds as offset > size - length, never addr + length > end (which can wrap).
        long offset = addr - address;
        return Long.compareUnsigned(addr, address) >= 0
                && Long.compareUnsigned(length, size) <= 0
                && Long.compareUnsigned(offset, size - length) <= 0;
    }

    /** Whether this window and {@code [addr, last]} share any address. */
    public boolean overlaps(long addr, long lastAddr) {
        return Long.compareUnsigned(addr, last()) <= 0 && Long.compareUnsigned(address, lastAddr) <= 0;
    }
}
