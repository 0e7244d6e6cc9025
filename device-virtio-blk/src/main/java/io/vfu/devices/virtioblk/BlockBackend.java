package io.vfu.devices.virtioblk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;

/**
 * The raw image behind a virtio-blk device: positional reads and writes between the file and memory (guest memory
 * itself when the server mapped it), flush, and holes for discard and write-zeroes. The capacity is the file's
 * size in whole 512-byte sectors when the device is created, and does not follow later changes of the file.
 */
final class BlockBackend implements AutoCloseable {

    static final int SECTOR = 512;
    /** Rule: O_DIRECT needs buffer address, offset and length aligned; 4 KiB satisfies every Linux file system. */
    static final int DIRECT_ALIGN = 4096;
    private static final int ZERO_CHUNK = 1 << 20;

    private final NativeFile buffered;
    private final NativeFile direct;
    private final long capacity;
    private final boolean readOnly;

    private BlockBackend(NativeFile buffered, NativeFile direct, long capacity, boolean readOnly) {
        this.buffered = buffered;
        this.direct = direct;
        this.capacity = capacity;
        this.readOnly = readOnly;
    }

    /** Opens (and with {@code size}, creates if absent, sparse) the image the settings name. */
    static BlockBackend open(BlkSettings s) throws IOException {
        if (s.size() > 0 && !s.readOnly()) {
            try {
                Files.createFile(s.image());
                try (RandomAccessFile f = new RandomAccessFile(s.image().toFile(), "rw")) {
                    f.setLength(s.size());
                }
            } catch (FileAlreadyExistsException e) {
                // Rule: an existing image is used as it is, never resized or overwritten.
            }
        }
        if (!Files.exists(s.image())) {
            throw new NoSuchFileException(s.image().toString(), null,
                    "the image does not exist (give \"size\" to create it)");
        }
        if (!Files.isRegularFile(s.image())) {
            throw new IOException(s.image() + " is not a regular file");
        }
        long capacity = Files.size(s.image()) / SECTOR * SECTOR;
        if (capacity == 0) {
            throw new IOException(s.image() + " holds less than one 512-byte sector");
        }
        NativeFile buffered = NativeFile.open(s.image(), !s.readOnly(), false);
        NativeFile direct = null;
        if (s.directIo()) {
            try {
                direct = NativeFile.open(s.image(), !s.readOnly(), true);
            } catch (IOException e) {
                buffered.close();
                throw new IOException("directIo: " + e.getMessage() + " (this file system may not support O_DIRECT)", e);
            }
        }
        return new BlockBackend(buffered, direct, capacity, s.readOnly());
    }

    /** Bytes the device exposes (a multiple of 512). */
    long capacity() {
        return capacity;
    }

    boolean readOnly() {
        return readOnly;
    }

    /** Fills {@code memory} from the image at byte {@code position}. */
    void read(MemorySegment memory, long position) throws IOException {
        pick(memory, position).read(memory, position);
    }

    /** Writes {@code memory} to the image at byte {@code position}. */
    void write(MemorySegment memory, long position) throws IOException {
        pick(memory, position).write(memory, position);
    }

    /** Fills {@code memory[0..count)}, in order, from the image at byte {@code position}. */
    void readv(MemorySegment[] memory, int count, long position) throws IOException {
        pick(memory, count, position).readv(memory, count, position);
    }

    /** Writes {@code memory[0..count)}, in order, to the image at byte {@code position}. */
    void writev(MemorySegment[] memory, int count, long position) throws IOException {
        pick(memory, count, position).writev(memory, count, position);
    }

    private NativeFile pick(MemorySegment[] memory, int count, long position) {
        if (direct == null || position % DIRECT_ALIGN != 0) {
            return buffered;
        }
        for (int i = 0; i < count; i++) {
            if (!aligned(memory[i])) {
                return buffered;
            }
        }
        return direct;
    }

    private NativeFile pick(MemorySegment memory, long position) {
        return direct != null && position % DIRECT_ALIGN == 0 && aligned(memory) ? direct : buffered;
    }

    /** Rule: O_DIRECT takes native memory whose address and length are multiples of {@link #DIRECT_ALIGN}. */
    private static boolean aligned(MemorySegment memory) {
        return memory.isNative() && memory.address() % DIRECT_ALIGN == 0 && memory.byteSize() % DIRECT_ALIGN == 0;
    }

    /** What the device wrote is on stable storage. */
    void flush() throws IOException {
        buffered.sync();
    }

    /**
     * Discard: the range reads as zeros afterwards and gives its space back (a hole). A file system without holes
     * gets zeros written instead, so a discard never leaves old data readable.
     */
    void discard(long position, long length) throws IOException {
        if (!buffered.fallocate(NativeFile.FALLOC_FL_PUNCH_HOLE | NativeFile.FALLOC_FL_KEEP_SIZE, position, length)) {
            writeZeroes(position, length, false);
        }
    }

    /** Write zeroes: a hole if {@code unmap} allows it, else the range is zeroed in place (allocated). */
    void writeZeroes(long position, long length, boolean unmap) throws IOException {
        if (unmap && buffered.fallocate(NativeFile.FALLOC_FL_PUNCH_HOLE | NativeFile.FALLOC_FL_KEEP_SIZE,
                position, length)) {
            return;
        }
        if (buffered.fallocate(NativeFile.FALLOC_FL_ZERO_RANGE | NativeFile.FALLOC_FL_KEEP_SIZE, position, length)) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(Math.min(length, ZERO_CHUNK));
            for (long done = 0; done < length; ) {
                long n = Math.min(zeros.byteSize(), length - done);
                buffered.write(zeros.asSlice(0, n), position + done);
                done += n;
            }
        }
    }

    @Override
    public void close() {
        buffered.close();
        if (direct != null) {
            direct.close();
        }
    }
}
