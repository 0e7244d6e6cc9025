package io.vfu.device;

import java.nio.ByteBuffer;

/**
 * A device served over vfio-user: what the server calls. Implement it (usually with the PCI toolkit in
 * {@link io.vfu.device.pci}), create it from a {@link VfioDeviceFactory}, and the server brings transport,
 * sessions, DMA, metrics and security.
 *
 * <h2>Threading</h2>
 * The server serialises every call under one device lock, so an implementation needs no locking of its own.
 * The one exception is {@link #work}, which runs on the device's worker without the lock and re-takes it
 * through the {@link DeviceLock} it is given.
 *
 * <h2>Errors</h2>
 * A bad request throws {@link DeviceException}, which the server answers with the matching errno. The read and
 * write paths should allocate nothing: they are the hot path.
 */
public interface VfioDevice {

    /** Number of regions (PCI: BAR0-5, ROM, CONFIG, VGA, as {@link RegionIndex}); fixed for the lifetime. */
    int regionCount();

    /** What region {@code index} is (spec "VFIO_USER_DEVICE_GET_REGION_INFO"). */
    RegionInfo regionInfo(int index);

    /** Fills {@code dst} (position to limit) from region {@code region} at {@code offset}. */
    void read(int region, long offset, ByteBuffer dst);

    /** Writes {@code src} (position to limit) to region {@code region} at {@code offset}. */
    void write(int region, long offset, ByteBuffer src);

    /** The device's interrupt indexes. */
    Interrupts interrupts();

    /**
     * Device reset (spec "VFIO_USER_DEVICE_RESET", what QEMU sends on a machine reset): back to power-on state.
     * Targets the reset drops come back through {@link Interrupts#takeReleased()}.
     */
    void reset();

    /**
     * Background work the device asked for with {@link DeviceContext#requestWork()} (a DMA engine's ring), run on
     * the device's own worker thread without the device lock. {@code memory} may block (message DMA), so the
     * lock is taken through {@code lock} only for short steps. Does nothing by default.
     */
    default void work(GuestMemory memory, DeviceLock lock) {
    }

    /**
     * The work a region write just asked for, offered at once to the thread that served the write (once the
     * device lock is released), so a short job costs no hand-over to the worker. {@code memory} is the same as
     * {@link #work}'s, but here only its {@link GuestMemory#direct direct} forms may be used: they never wait and
     * never send a message, and a range they cannot reach (or any failure) means "leave it to the worker". Keep
     * it short and bounded: the client's next message waits for it.
     *
     * @return true when no work is left; false to have {@link #work} run on the worker as usual (the default).
     *         What was started and not finished here must be safe to do again there.
     */
    default boolean workDirect(GuestMemory memory, DeviceLock lock) {
        return false;
    }

    /**
     * Interrupt statistics for metrics, if the device keeps the toolkit's (read from any thread without the lock);
     * null otherwise.
     */
    default io.vfu.device.pci.InterruptStats interruptStats() {
        return null;
    }

    /**
     * The client granted a DMA window (spec "VFIO_USER_DMA_MAP"): guest bus addresses {@code [iova, iova + size)},
     * which {@link GuestMemory} now reaches. Called under the device lock after the window is in place.
     */
    default void dmaMapped(long iova, long size, boolean readable, boolean writable) {
    }

    /**
     * A DMA window went away (spec "VFIO_USER_DMA_UNMAP"). The server has already waited for direct DMA in
     * flight into it, so a device needs no quiesce step; work that still targets it fails with a
     * {@link GuestMemoryException}. Windows of a client that disconnects go without this call
     * ({@link #detached()} says it).
     */
    default void dmaUnmapped(long iova, long size) {
    }

    /**
     * The server stops serving the device (it shuts down, or the device left its configuration): release files,
     * threads and anything else the device holds. No call comes after it. Does nothing by default.
     */
    default void close() {
    }

    /** A client completed VERSION and now drives the device. */
    default void attached() {
    }

    /**
     * The client went away: its interrupt targets are already gone, its DMA windows go right after (waiting for
     * direct DMA in flight). Device state stays for the next client.
     */
    default void detached() {
    }
}
