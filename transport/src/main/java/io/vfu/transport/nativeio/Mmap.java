package io.vfu.transport.nativeio;

import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shared mapping of {@code [offset, offset + length)} of a file (mmap(2) with MAP_SHARED), seen as a
 * {@link MemorySegment}. DMA_MAP offsets need not be page-aligned, so the mapping starts at the page below
 * {@code offset} and {@link #segment()} is the exact requested slice. The mapping outlives the fd it came
 * from; {@link #close()} unmaps it (once). The segment must not be used after close.
 */
@SuppressWarnings("restricted") // sizing the segment mmap returned
public final class Mmap implements AutoCloseable {

    private final MemorySegment base;
    private final long mappedLength;
    private final MemorySegment segment;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Mmap(MemorySegment base, long mappedLength, MemorySegment segment) {
        this.base = base;
        this.mappedLength = mappedLength;
        this.segment = segment;
    }

    /**
     * Maps {@code length} bytes at file {@code offset}. {@code writable} adds PROT_WRITE.
     *
     * <p>Rule: the file must already cover the whole range. Touching a mapping past the end of its file raises
     * SIGBUS, which would kill the JVM, so a window larger than the file a client sent is refused here. (A
     * client that shrinks the file after mapping can still cause that; QEMU never does.)
     *
     * @throws IllegalArgumentException when offset is negative, length is not positive, the end overflows, or
     *                                  the file is shorter than {@code offset + length}
     */
    public static Mmap map(OwnedFd fd, long offset, long length, boolean writable) throws NativeCallException {
        if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException("bad range offset=" + offset + " length=" + length);
        }
        long fileSize = Libc.fileSize(fd.fd());
        if (fileSize < offset + length) {
            throw new IllegalArgumentException("file of " + fileSize + " bytes does not cover offset=" + offset
                    + " length=" + length);
        }
        long pageOffset = offset % Libc.pageSize();
        long alignedOffset = offset - pageOffset;
        long mappedLength = Math.addExact(length, pageOffset);
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        MemorySegment raw = Libc.mmap(mappedLength, prot, Libc.MAP_SHARED, fd.fd(), alignedOffset);
        MemorySegment base = raw.reinterpret(mappedLength);
        return new Mmap(base, mappedLength, base.asSlice(pageOffset, length));
    }

    /** The requested bytes, exactly {@code length} long. */
    public MemorySegment segment() {
        if (closed.get()) {
            throw new IllegalStateException("unmapped");
        }
        return segment;
    }

    public long length() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                Libc.munmap(base, mappedLength);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The system page size. */
    public static long pageSize() {
        return Libc.pageSize();
    }
}
