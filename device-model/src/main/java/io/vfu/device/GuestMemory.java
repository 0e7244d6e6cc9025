package io.vfu.device;

import java.nio.ByteBuffer;

/**
 * Guest memory as the device sees it through its bus-master address space. The server implements it over
 * mmapped DMA regions or {@code VFIO_USER_DMA_READ}/{@code DMA_WRITE}; either may block, so the model only calls
 * it from {@link VfioDevice#work}, never under the device lock.
 */
public interface GuestMemory {

    /** Fill {@code dst}'s remaining bytes from guest address {@code address}, or throw. */
    void read(long address, ByteBuffer dst) throws GuestMemoryException;

    /** Write {@code src}'s remaining bytes to guest address {@code address}, or throw. */
    void write(long address, ByteBuffer src) throws GuestMemoryException;
}
