package io.vfu.device;

import java.util.List;

/**
 * A device's vfio interrupt indexes as the server drives them (spec "VFIO_USER_DEVICE_GET_IRQ_INFO",
 * "VFIO_USER_DEVICE_SET_IRQS"): where each interrupt goes, which the client decides. The toolkit's
 * {@link io.vfu.device.pci.VfioIrqs} implements it with the rules of the seed (MSI-X appended one vector at a
 * time without NORESIZE, automasked INTx, ERR and REQ).
 *
 * <h2>Ownership</h2>
 * Targets handed in with {@link #set} belong to the device once the call returns normally; every target it
 * stops using comes back, in the returned list, or through {@link #takeReleased()} when something other than
 * an interrupt request dropped it, and the server closes it. If a call throws, nothing changed and the server
 * still owns what it passed. Called under the device lock.
 */
public interface Interrupts {

    /** Number of IRQ indexes (PCI: INTx, MSI, MSI-X, ERR, REQ). */
    int count();

    /** What index {@code index} offers. */
    IrqInfo info(int index);

    /**
     * One SET_IRQS. {@code start} and {@code count} are the wire u32 values widened.
     *
     * @return targets no longer used (replaced or de-assigned); the server closes them
     * @throws DeviceException INVALID_ARGUMENT / OUT_OF_RANGE for a malformed request, NO_SPACE when the vector
     *                         budget cannot cover an append, NOT_SUPPORTED for what the index cannot do
     */
    List<IrqTarget> set(int index, IrqAction action, long start, long count, IrqData data);

    /** The client went away: every target it passed comes back; device state stays. */
    List<IrqTarget> releaseSession();

    /** Whether {@link #takeReleased()} has anything (checked after every device call, so it must be cheap). */
    boolean hasReleased();

    /** Targets dropped by something other than {@link #set} (a reset, an FLR the guest started). */
    List<IrqTarget> takeReleased();
}
