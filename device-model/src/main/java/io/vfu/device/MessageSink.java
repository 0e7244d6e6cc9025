package io.vfu.device;

/**
 * Outbound posted memory writes: an IMS entry, or an MSI-X entry the client programmed itself (no vfio target),
 * delivers its message as a 32-bit write of {@code data} to {@code address}. Over vfio-user the server turns
 * this into a {@code VFIO_USER_DMA_WRITE}, which QEMU delivers as an MSI (spec "VFIO_USER_DMA_WRITE").
 */
@FunctionalInterface
public interface MessageSink {

    /**
     * Post one 32-bit little-endian write. Called under the device lock; the server must queue it and never
     * wait for the client's reply here.
     *
     * @param address guest bus address (full 64 bits; compare unsigned)
     * @param data    the 32-bit message data
     */
    void postWrite(long address, int data);
}
