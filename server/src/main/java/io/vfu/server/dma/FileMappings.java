package io.vfu.server.dma;

import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.transport.nativeio.Fds;
import io.vfu.transport.nativeio.FileStat;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.OwnedFd;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * The client files one session has mapped for direct DMA, shared by its windows.
 *
 * <p>Rule: one mapping per file, not per window. A guest behind a vIOMMU maps its memory page by page, one
 * DMA_MAP each, all windows of the same memfd; QEMU maps RAM below and above 4 GiB as two windows of one memfd.
 * Each file is mapped whole once (at its size when first needed) and every window is a slice of that mapping,
 * so windows cost no kernel mapping and 65,535 windows of one file fit in any process. A window beyond the
 * current mapping of its file (the file grew) gets a new whole-file mapping; the old one goes when its last
 * window does.
 *
 * <p>Rule: mappings are budgeted, per session ({@code sessionLimit}) and per process ({@link MappingBudget}),
 * so no client can exhaust {@code vm.max_map_count} or the address space for the others; past either budget a
 * new file is refused with ENOSPC and the session goes on. Every mapping goes with its last window, so the
 * session's {@link DmaMapTable} releases them all when it closes. Files are told apart by (st_dev, st_ino), whatever fd
 * number carries them, and by access mode (a read-only fd gets a read-only mapping of its own).
 */
public final class FileMappings {

    /** Mappings one session may hold by default: real clients need one per memory backend. */
    public static final int DEFAULT_SESSION_LIMIT = 1024;

    /** A window's bytes and how to let go of them (exactly once). */
    public record Window(MemorySegment segment, DmaMapTable.Release release) {
    }

    private record Key(long dev, long ino, boolean writable) {
    }

    /** One whole-file mapping and how many windows use it. */
    private static final class Shared {
        final Key key;
        final Mmap mmap;
        int windows;

        Shared(Key key, Mmap mmap) {
            this.key = key;
            this.mmap = mmap;
        }
    }

    private final MappingBudget process;
    private final int sessionLimit;
    private final Map<Key, Shared> current = new HashMap<>();
    private int held;

    public FileMappings(MappingBudget process, int sessionLimit) {
        if (sessionLimit < 0) {
            throw new IllegalArgumentException("session mapping limit must not be negative: " + sessionLimit);
        }
        this.process = process;
        this.sessionLimit = sessionLimit;
    }

    /**
     * The window {@code [offset, offset + length)} of the file behind {@code fd}, mapped for reading (and for
     * writing if {@code writable}). The fd is not kept.
     *
     * @throws MessageException EINVAL when the window does not lie inside the file as it is now (touching
     *                          memory past the end of a file raises SIGBUS), the fd is not mappable, or it is
     *                          read-only for a writable window; ENOSPC when a new mapping is needed and the
     *                          session's or the process's budget is spent
     */
    public synchronized Window map(OwnedFd fd, long offset, long length, boolean writable) throws MessageException {
        // Rule: offsets are u64 on the wire; a window must fit in the file, checked without overflow.
        if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
            throw new MessageException(Errno.EINVAL, "bad DMA window offset " + Long.toUnsignedString(offset)
                    + " size " + Long.toUnsignedString(length));
        }
        FileStat stat;
        boolean readWrite;
        try {
            stat = FileStat.of(fd);
            readWrite = Fds.readWrite(fd.fd());
        } catch (NativeCallException e) {
            throw new MessageException(Errno.EINVAL, "cannot inspect the DMA window's fd: " + e.getMessage());
        }
        if (offset + length > stat.size()) {
            throw new MessageException(Errno.EINVAL, "DMA window [" + offset + ", " + (offset + length)
                    + ") extends beyond its file of " + stat.size() + " bytes");
        }
        if (writable && !readWrite) {
            throw new MessageException(Errno.EINVAL, "writable DMA window on a read-only fd");
        }
        Key key = new Key(stat.dev(), stat.ino(), readWrite);
        Shared s = current.get(key);
        if (s == null || s.mmap.length() < offset + length) {
            s = mapWhole(fd, key, stat.size());
            current.put(key, s);
        }
        s.windows++;
        Shared shared = s;
        return new Window(s.mmap.segment().asSlice(offset, length), () -> release(shared));
    }

    private Shared mapWhole(OwnedFd fd, Key key, long size) throws MessageException {
        if (held >= sessionLimit) {
            throw new MessageException(Errno.ENOSPC, "this session holds its limit of " + sessionLimit
                    + " mapped files");
        }
        if (!process.tryAcquire(size)) {
            throw new MessageException(Errno.ENOSPC, "the process's budget of DMA mappings (" + process.limit()
                    + ", " + (MappingBudget.ADDRESS_SPACE >>> 40) + " TiB) is spent");
        }
        try {
            Shared s = new Shared(key, Mmap.map(fd, 0, size, key.writable()));
            held++;
            return s;
        } catch (NativeCallException | IllegalArgumentException e) {
            process.release(size);
            // Rule: an fd that cannot be mapped (not a file, shrank meanwhile) is EINVAL, never a crash.
            throw new MessageException(Errno.EINVAL, "cannot mmap the DMA window's file: " + e.getMessage());
        }
    }

    private synchronized void release(Shared s) {
        if (--s.windows > 0) {
            return;
        }
        if (current.get(s.key) == s) {
            current.remove(s.key);
        }
        long size = s.mmap.length(); // what mapWhole took from the budget
        s.mmap.close();
        held--;
        process.release(size);
    }
}
