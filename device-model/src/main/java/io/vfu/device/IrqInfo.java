package io.vfu.device;

/**
 * One interrupt index as {@code VFIO_USER_DEVICE_GET_IRQ_INFO} reports it (spec
 * "VFIO_USER_DEVICE_GET_IRQ_INFO"; flags EVENTFD=1, MASKABLE=2, AUTOMASKED=4, NORESIZE=8 on the wire).
 *
 * @param index      IRQ index (INTx 0, MSI 1, MSI-X 2, ERR 3, REQ 4)
 * @param count      number of vectors
 * @param eventfd    vectors accept trigger targets
 * @param maskable   MASK/UNMASK actions are supported
 * @param automasked the index masks itself after a trigger (level-triggered INTx)
 * @param noresize   vectors cannot be appended while enabled (never set for MSI-X: append is the point)
 */
public record IrqInfo(int index, int count, boolean eventfd, boolean maskable, boolean automasked,
                      boolean noresize) {

    public IrqInfo {
        if (index < 0 || count < 0) {
            throw new IllegalArgumentException("index and count must be non-negative");
        }
    }
}
