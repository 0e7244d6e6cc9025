package io.vfu.devices.virtioblk;

import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Executes virtio-blk requests (virtio 1.2, 5.2.6): a 16-byte header (type, reserved, sector) in the readable
 * bytes, data after it (OUT) or in the writable bytes (IN), and one status byte, the last writable byte. The
 * chain is treated as a byte stream, so any buffer layout works (VERSION_1 implies ANY_LAYOUT). Thread-safe:
 * requests of every queue run here in parallel.
 */
final class BlkRequests {

    static final int T_IN = 0;
    static final int T_OUT = 1;
    static final int T_FLUSH = 4;
    static final int T_GET_ID = 8;
    static final int T_DISCARD = 11;
    static final int T_WRITE_ZEROES = 13;
    static final int S_OK = 0;
    static final int S_IOERR = 1;
    static final int S_UNSUPP = 2;
    static final int HEADER = 16;
    static final int DISCARD_SEGMENT = 16;
    private static final int BOUNCE = 1 << 20;

    private final BlockBackend backend;
    private final byte[] serial;
    private final BlkMeters meters;
    private final System.Logger log;

    BlkRequests(BlockBackend backend, String serial, BlkMeters meters, System.Logger log) {
        this.backend = backend;
        this.serial = serial.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.meters = meters;
        this.log = log;
    }

    /**
     * Runs the request in {@code chain} and writes its status byte.
     *
     * @return the used length: bytes the device wrote into the chain, status included
     * @throws RingException when the chain has no byte for the status: nothing can answer the driver
     */
    int execute(Chain chain, GuestMemory memory) throws RingException {
        if (chain.writable() < 1) {
            throw new RingException("request at head " + chain.head() + " has no status byte");
        }
        Chain.Buffer last = chain.buffers().getLast();
        long statusAddress = last.address() + last.length() - 1;
        long dataIn = chain.writable() - 1;
        int[] written = {0};
        int status;
        try {
            status = run(chain, memory, dataIn, written);
        } catch (GuestMemoryException e) {
            log.log(System.Logger.Level.DEBUG, () -> "request at head " + chain.head() + ": " + e.getMessage());
            status = S_IOERR;
        } catch (IOException e) {
            log.log(System.Logger.Level.WARNING, () -> "request at head " + chain.head() + ": " + e.getMessage());
            status = S_IOERR;
        }
        if (status != S_OK) {
            meters.errors.increment();
        }
        ByteBuffer b = ByteBuffer.allocate(1).put(0, (byte) status);
        try {
            memory.write(statusAddress, b);
        } catch (GuestMemoryException e) {
            throw new RingException("status byte of the request at head " + chain.head() + " unwritable: "
                    + e.getMessage());
        }
        return written[0] + 1;
    }

    private int run(Chain chain, GuestMemory memory, long dataIn, int[] written)
            throws GuestMemoryException, IOException {
        if (chain.readable() < HEADER) {
            return S_IOERR; // Rule: no complete header, no request.
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        gather(chain.buffers(), false, 0, header, memory);
        int type = header.getInt(0);
        long sector = header.getLong(8);
        long dataOut = chain.readable() - HEADER;
        return switch (type) {
            case T_IN -> {
                if (!fits(sector, dataIn)) {
                    yield S_IOERR;
                }
                transfer(chain.buffers(), true, 0, dataIn, sector * BlockBackend.SECTOR, memory);
                written[0] = (int) dataIn;
                meters.reads.increment();
                meters.readBytes.add(dataIn);
                yield S_OK;
            }
            case T_OUT -> {
                if (backend.readOnly() || !fits(sector, dataOut)) {
                    yield S_IOERR;
                }
                transfer(chain.buffers(), false, HEADER, dataOut, sector * BlockBackend.SECTOR, memory);
                meters.writes.increment();
                meters.writtenBytes.add(dataOut);
                yield S_OK;
            }
            case T_FLUSH -> {
                backend.flush();
                meters.flushes.increment();
                yield S_OK;
            }
            case T_GET_ID -> {
                // Rule: the ID is 20 bytes, zero-padded, not NUL-terminated when it fills them.
                int n = (int) Math.min(dataIn, BlkSettings.SERIAL_BYTES);
                ByteBuffer id = ByteBuffer.allocate(n);
                id.put(serial, 0, Math.min(serial.length, n)).clear();
                scatter(chain.buffers(), 0, id, memory);
                written[0] = n;
                yield S_OK;
            }
            case T_DISCARD, T_WRITE_ZEROES -> {
                if (backend.readOnly()) {
                    yield S_IOERR;
                }
                yield ranges(chain, memory, type == T_DISCARD, dataOut);
            }
            default -> S_UNSUPP;
        };
    }

    /** Rule: data is whole sectors and lies inside the disk (checked without overflow). */
    private boolean fits(long sector, long bytes) {
        if (bytes % BlockBackend.SECTOR != 0 || sector < 0) {
            return false;
        }
        long sectors = backend.capacity() / BlockBackend.SECTOR;
        long count = bytes / BlockBackend.SECTOR;
        return sector <= sectors && count <= sectors - sector;
    }

    /** Discard and write-zeroes: segments of (sector, num_sectors, flags), each checked (virtio 1.2, 5.2.6.2). */
    private int ranges(Chain chain, GuestMemory memory, boolean discard, long dataOut)
            throws GuestMemoryException, IOException {
        if (dataOut == 0 || dataOut % DISCARD_SEGMENT != 0 || dataOut / DISCARD_SEGMENT > BlkConfig.MAX_DISCARD_SEG) {
            return S_IOERR;
        }
        ByteBuffer segs = ByteBuffer.allocate((int) dataOut).order(ByteOrder.LITTLE_ENDIAN);
        gather(chain.buffers(), false, HEADER, segs, memory);
        for (int at = 0; at < dataOut; at += DISCARD_SEGMENT) {
            long sector = segs.getLong(at);
            long count = segs.getInt(at + 8) & 0xFFFF_FFFFL;
            int flags = segs.getInt(at + 12);
            // Rule: discard knows no flags; write-zeroes only "unmap" (bit 0). Others are unsupported.
            if (discard ? flags != 0 : (flags & ~1) != 0) {
                return S_UNSUPP;
            }
            if (count > BlkConfig.MAX_DISCARD_SECTORS || !fits(sector, count * BlockBackend.SECTOR)) {
                return S_IOERR;
            }
        }
        for (int at = 0; at < dataOut; at += DISCARD_SEGMENT) {
            long position = segs.getLong(at) * BlockBackend.SECTOR;
            long length = (segs.getInt(at + 8) & 0xFFFF_FFFFL) * BlockBackend.SECTOR;
            if (discard) {
                backend.discard(position, length);
                meters.discards.increment();
            } else {
                backend.writeZeroes(position, length, (segs.getInt(at + 12) & 1) != 0);
                meters.writeZeroes.increment();
            }
        }
        return S_OK;
    }

    /**
     * Moves {@code length} bytes between the image at {@code position} and the chain's readable ({@code toGuest}
     * false, from stream offset {@code skip}) or writable buffers: straight between the file and guest memory
     * where the server mapped it, through a bounce buffer otherwise.
     */
    private void transfer(List<Chain.Buffer> buffers, boolean toGuest, long skip, long length, long position,
            GuestMemory memory) throws GuestMemoryException, IOException {
        if (length == 0) {
            return;
        }
        // First choice: the whole scatter-gather list straight between the file and guest memory, one system call.
        long[] addresses = new long[buffers.size()];
        long[] lengths = new long[buffers.size()];
        int count = pieces(buffers, toGuest, skip, length, addresses, lengths);
        boolean direct = memory.direct(addresses, lengths, count, toGuest, (segments, n) -> {
            if (toGuest) {
                backend.readv(segments, n, position);
            } else {
                backend.writev(segments, n, position);
            }
        });
        if (!direct) {
            transferEach(addresses, lengths, count, toGuest, position, memory);
        }
    }

    /** The guest ranges of the data: {@code length} bytes of the stream from {@code skip}; returns how many. */
    private static int pieces(List<Chain.Buffer> buffers, boolean writable, long skip, long length,
            long[] addresses, long[] lengths) {
        long offset = 0;
        long done = 0;
        int count = 0;
        for (Chain.Buffer b : buffers) {
            if (b.writable() != writable || done == length) {
                continue;
            }
            long from = Math.max(skip - offset, 0);
            offset += b.length();
            if (from >= b.length()) {
                continue;
            }
            long n = Math.min(b.length() - from, length - done);
            addresses[count] = b.address() + from;
            lengths[count] = n;
            count++;
            done += n;
        }
        return count;
    }

    /** Range by range: directly where a range is mapped, through a bounce buffer otherwise. */
    private void transferEach(long[] addresses, long[] lengths, int count, boolean toGuest, long position,
            GuestMemory memory) throws GuestMemoryException, IOException {
        long done = 0;
        for (int i = 0; i < count; i++) {
            long address = addresses[i];
            long n = lengths[i];
            long filePos = position + done;
            boolean direct = memory.direct(address, n, toGuest, guest -> {
                if (toGuest) {
                    backend.read(guest, filePos);
                } else {
                    backend.write(guest, filePos);
                }
            });
            if (!direct) {
                bounce(address, n, filePos, toGuest, memory);
            }
            done += n;
        }
    }

    private void bounce(long address, long length, long position, boolean toGuest, GuestMemory memory)
            throws GuestMemoryException, IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.min(length, BOUNCE), BlockBackend.DIRECT_ALIGN);
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(buf.byteSize(), length - done);
                MemorySegment part = buf.asSlice(0, n);
                if (toGuest) {
                    backend.read(part, position + done);
                    memory.write(address + done, part.asByteBuffer());
                } else {
                    memory.read(address + done, part.asByteBuffer());
                    backend.write(part, position + done);
                }
                done += n;
            }
        }
    }

    /** Fills {@code dst} from the readable (or writable) stream at offset {@code skip}. */
    private static void gather(List<Chain.Buffer> buffers, boolean writable, long skip, ByteBuffer dst,
            GuestMemory memory) throws GuestMemoryException {
        copy(buffers, writable, skip, dst, memory, false);
    }

    /** Writes {@code src} into the writable stream at offset {@code skip}. */
    private static void scatter(List<Chain.Buffer> buffers, long skip, ByteBuffer src, GuestMemory memory)
            throws GuestMemoryException {
        copy(buffers, true, skip, src, memory, true);
    }

    /** Copies {@code buf}'s remaining bytes between it and the stream's ranges from {@code skip}, in order. */
    private static void copy(List<Chain.Buffer> buffers, boolean writable, long skip, ByteBuffer buf,
            GuestMemory memory, boolean toGuest) throws GuestMemoryException {
        long[] addresses = new long[buffers.size()];
        long[] lengths = new long[buffers.size()];
        int count = pieces(buffers, writable, skip, buf.remaining(), addresses, lengths);
        for (int i = 0; i < count; i++) {
            ByteBuffer part = buf.slice(buf.position(), (int) lengths[i]);
            if (toGuest) {
                memory.write(addresses[i], part);
            } else {
                memory.read(addresses[i], part);
            }
            buf.position(buf.position() + (int) lengths[i]);
        }
    }
}
