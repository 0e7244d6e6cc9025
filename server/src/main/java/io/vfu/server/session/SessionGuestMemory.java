package io.vfu.server.session;

import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;
import io.vfu.protocol.DmaRead;
import io.vfu.protocol.DmaWrite;
import io.vfu.protocol.Header;
import io.vfu.protocol.Limits;
import io.vfu.protocol.Message;
import io.vfu.protocol.MessageDecoder;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.MessageException;
import io.vfu.protocol.ProtocolException;
import io.vfu.server.dma.DmaMapTable;
import io.vfu.server.dma.DmaMapping;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.server.metrics.DeviceMetrics.DmaDirection;
import io.vfu.server.metrics.DeviceMetrics.DmaMode;
import io.vfu.transport.Connection;
import io.vfu.transport.Frame;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Guest memory of one session: mmap'd windows are copied directly; the others go to the client as
 * {@code VFIO_USER_DMA_READ}/{@code VFIO_USER_DMA_WRITE} (spec "Read and Write Operations"), in chunks of at
 * most the client's {@code max_data_xfer_size}.
 *
 * <p>Message DMA blocks for the client's reply, so it must never run on the connection's reader thread (the
 * reply is read there: QEMU's deadlock trap). The device model only calls this from the DMA worker.
 */
final class SessionGuestMemory implements GuestMemory {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** How long a DMA waits for a window the client is mapping again. */
    static final Duration HOLE_WAIT = Duration.ofMillis(200);
    /** How many times one transfer waits for a window that went between its look-up and its access. */
    private static final int MAX_REGONE = 8;

    private final DmaMapTable maps;
    private final Connection connection;
    private final DeviceMetrics metrics;
    private volatile long maxChunk;

    SessionGuestMemory(DmaMapTable maps, Connection connection, DeviceMetrics metrics, long maxChunk) {
        this.maps = maps;
        this.connection = connection;
        this.metrics = metrics;
        this.maxChunk = maxChunk;
    }

    /** The client's max_data_xfer_size, once negotiated. */
    void maxChunk(long bytes) {
        this.maxChunk = bytes;
    }

    @Override
    public void read(long address, ByteBuffer dst) throws GuestMemoryException {
        transfer(address, dst, false);
    }

    @Override
    public void write(long address, ByteBuffer src) throws GuestMemoryException {
        transfer(address, src, true);
    }

    /**
     * Rule: the access runs under the window table's read lock, so a DMA_UNMAP of its window waits for it (the
     * same guarantee as a copy); a range by message, or across windows, is left to read and write.
     */
    @Override
    public boolean direct(long address, long length, boolean write, DirectAccess access)
            throws GuestMemoryException {
        if (length <= 0) {
            return false; // Rule: a range outside one window is EFAULT below, which also means "not directly".
        }
        IOException[] failed = new IOException[1];
        Optional<DmaMapping> viaMessage;
        try {
            viaMessage = maps.access(address, length, write, (segment, offset) -> {
                try {
                    access.access(segment.asSlice(offset, length));
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
        } catch (MessageException e) {
            if (e.errno() == io.vfu.protocol.Errno.EFAULT) {
                return false; // Rule: a window that went meanwhile is waited for by read and write.
            }
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(address) + " of " + length
                    + " bytes refused: " + e.getMessage());
        } catch (InternalError e) {
            metrics.dmaFault();
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(address)
                    + " faulted: the client's file no longer backs the window", e);
        }
        if (failed[0] != null) {
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(address) + " failed: "
                    + failed[0].getMessage(), failed[0]);
        }
        if (viaMessage.isPresent()) {
            return false;
        }
        metrics.dma(DmaMode.MMAP, write ? DmaDirection.WRITE : DmaDirection.READ, length);
        return true;
    }

    /** Rule: as the single-range form; all ranges under one read lock, or none (then by read and write). */
    @Override
    public boolean direct(long[] addresses, long[] lengths, int count, boolean write, VectoredAccess access)
            throws GuestMemoryException {
        if (count <= 0 || count > addresses.length || count > lengths.length) {
            return false;
        }
        IOException[] failed = new IOException[1];
        boolean done;
        try {
            done = maps.accessAll(addresses, lengths, count, write, segments -> {
                try {
                    access.access(segments, count);
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
        } catch (InternalError e) {
            metrics.dmaFault();
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(addresses[0])
                    + " faulted: the client's file no longer backs the window", e);
        }
        if (failed[0] != null) {
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(addresses[0]) + " failed: "
                    + failed[0].getMessage(), failed[0]);
        }
        if (done) {
            long total = 0;
            for (int i = 0; i < count; i++) {
                total += lengths[i];
            }
            metrics.dma(DmaMode.MMAP, write ? DmaDirection.WRITE : DmaDirection.READ, total);
        }
        return done;
    }

    /**
     * Splits the transfer at window boundaries: adjacent windows may differ in kind (mmap or message). Rule: the
     * JVM may deliver the {@code InternalError} of a bus error (a file the client shrank) a little after the
     * access that caused it, so the whole transfer turns one into a fault of this transfer.
     */
    private void transfer(long address, ByteBuffer buf, boolean write) throws GuestMemoryException {
        try {
            transferPieces(address, buf, write);
        } catch (InternalError e) {
            metrics.dmaFault();
            throw new GuestMemoryException("DMA " + (write ? "write" : "read") + " at 0x" + Long.toHexString(address)
                    + " faulted: the client's file no longer backs the window", e);
        }
    }

    private void transferPieces(long address, ByteBuffer buf, boolean write) throws GuestMemoryException {
        long addr = address;
        int regone = 0;
        while (buf.hasRemaining()) {
            long span = maps.windowRemaining(addr);
            if (span == 0) {
                span = awaitWindow(addr);
            }
            if (span == 0) {
                throw new GuestMemoryException("DMA " + (write ? "write" : "read") + " at 0x" + Long.toHexString(addr)
                        + " refused: no mapped window holds it");
            }
            int piece = (int) Math.min(buf.remaining(), span);
            ByteBuffer part = buf.slice(buf.position(), piece);
            if (!transferWithin(addr, part, write)) {
                // Rule: the window went between the look-up and the access (the client is mapping it again):
                // wait for it like for a missing one, then do this piece again; give up as before if it stays away.
                if (++regone > MAX_REGONE || awaitWindow(addr) == 0) {
                    throw new GuestMemoryException("DMA " + (write ? "write" : "read") + " at 0x"
                            + Long.toHexString(addr) + " refused: its window was unmapped and not mapped again");
                }
                continue;
            }
            buf.position(buf.position() + piece);
            addr += piece;
        }
    }

    /**
     * Rule: a window that is missing only while the client maps it again (QEMU unmaps guest RAM and maps it anew
     * in pieces when the guest's firmware changes its PAM or SMRAM layout, while a device may already be working
     * on a ring) is waited for, up to {@link #HOLE_WAIT}; then the access fails as before. Never on the reader
     * thread, which is the one that would read the DMA_MAP.
     *
     * @return the bytes from {@code address} to its window's end once one holds it, else 0
     */
    private long awaitWindow(long address) {
        if (connection.onReaderThread()) {
            return 0;
        }
        long deadline = System.nanoTime() + HOLE_WAIT.toNanos();
        while (true) {
            long seen = maps.mapsMade();
            long span = maps.windowRemaining(address);
            long left = deadline - System.nanoTime();
            if (span > 0 || left <= 0 || !maps.awaitMapAfter(seen, left)) {
                return span > 0 ? span : maps.windowRemaining(address);
            }
        }
    }

    /** @return false, having moved nothing, when no window holds the range any more (EFAULT) */
    private boolean transferWithin(long address, ByteBuffer buf, boolean write) throws GuestMemoryException {
        int length = buf.remaining();
        Optional<DmaMapping> viaMessage;
        try {
            viaMessage = maps.access(address, length, write, (segment, offset) -> {
                MemorySegment window = segment.asSlice(offset, length);
                if (write) {
                    window.copyFrom(MemorySegment.ofBuffer(buf));
                } else {
                    MemorySegment.ofBuffer(buf).copyFrom(window);
                }
                buf.position(buf.limit());
            });
        } catch (MessageException e) {
            if (e.errno() == io.vfu.protocol.Errno.EFAULT) {
                return false;
            }
            throw new GuestMemoryException("DMA " + (write ? "write" : "read") + " at 0x" + Long.toHexString(address)
                    + " of " + length + " bytes refused: " + e.getMessage());
        }
        if (viaMessage.isEmpty()) {
            metrics.dma(DmaMode.MMAP, write ? DmaDirection.WRITE : DmaDirection.READ, length);
            return true;
        }
        if (connection.onReaderThread()) {
            throw new IllegalStateException("message DMA on the reader thread would deadlock");
        }
        long addr = address;
        while (buf.hasRemaining()) {
            int chunk = (int) Math.min(buf.remaining(), maxChunk);
            if (write) {
                ByteBuffer part = buf.slice(buf.position(), chunk);
                call(new DmaWrite.Request(addr, part), addr, chunk);
            } else {
                Message reply = call(new DmaRead.Request(addr, chunk), addr, chunk);
                if (!(reply instanceof DmaRead.Reply r) || r.data().remaining() != chunk) {
                    throw new GuestMemoryException("DMA_READ reply does not carry " + chunk + " bytes");
                }
                buf.put(buf.position(), r.data(), r.data().position(), chunk);
            }
            buf.position(buf.position() + chunk);
            addr += chunk;
        }
        metrics.dma(DmaMode.MESSAGE, write ? DmaDirection.WRITE : DmaDirection.READ, length);
        return true;
    }

    private Message call(Message.Request request, long addr, int chunk) throws GuestMemoryException {
        try (Frame f = connection.request(request.command(), MessageEncoder.payload(request)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            Header h = f.header();
            return MessageDecoder.decode(h, f.payload(), f.fds().count(), Limits.of(Math.max(chunk, 1), 0));
        } catch (ExecutionException e) {
            throw new GuestMemoryException(request.command() + " at 0x" + Long.toHexString(addr) + " failed: "
                    + e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new GuestMemoryException(request.command() + " at 0x" + Long.toHexString(addr) + " timed out");
        } catch (ProtocolException e) {
            throw new GuestMemoryException("bad " + request.command() + " reply: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestMemoryException("interrupted during " + request.command());
        }
    }
}
