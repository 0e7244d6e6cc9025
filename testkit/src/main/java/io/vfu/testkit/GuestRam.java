package io.vfu.testkit;

import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.OwnedFd;
import java.lang.foreign.MemorySegment;

/**
 * Guest memory a test gave the device: a memfd mapped here and DMA_MAP'd to the device at {@link #iova()}, as
 * QEMU does with a shared memory backend. The device DMAs into it directly; the test reads and writes the same
 * bytes through {@link #memory()}. Closing unmaps it from the device (DMA_UNMAP) and here.
 */
public final class GuestRam implements AutoCloseable {

    private final DeviceClient client;
    private final long iova;
    private final OwnedFd fd;
    private final Mmap local;

    GuestRam(DeviceClient client, long iova, OwnedFd fd, Mmap local) {
        this.client = client;
        this.iova = iova;
        this.fd = fd;
        this.local = local;
    }

    /** The bus address of the first byte, as the device sees it. */
    public long iova() {
        return iova;
    }

    /** Size in bytes. */
    public long size() {
        return local.length();
    }

    /** The bytes, as the test sees them (shared with the device). */
    public MemorySegment memory() {
        return local.segment();
    }

    /** What runs while the memory is unmapped, in {@link #remapAround}. */
    @FunctionalInterface
    public interface WhileUnmapped {
        void run() throws Exception;
    }

    /**
     * Unmaps this memory from the device (DMA_UNMAP), runs {@code during}, then maps the same memory again
     * (DMA_MAP of the same memfd, contents kept): what QEMU does to guest RAM when the guest's firmware changes
     * the memory layout under a device that may be working.
     */
    public void remapAround(WhileUnmapped during) throws Exception {
        client.unmap(iova, size());
        try {
            during.run();
        } finally {
            client.mapAgain(iova, size(), fd);
        }
    }

    @Override
    public void close() {
        try {
            client.unmap(iova, size());
        } finally {
            local.close();
            fd.close();
        }
    }
}
