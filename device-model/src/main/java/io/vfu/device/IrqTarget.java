package io.vfu.device;

/**
 * Where a vfio-level interrupt goes: in the server, an eventfd the client passed with
 * {@code VFIO_USER_DEVICE_SET_IRQS} (spec "VFIO_USER_DEVICE_SET_IRQS"). The model stores targets per vector,
 * triggers them, and hands back every target it stops using so the server can close it; it never closes one.
 */
@FunctionalInterface
public interface IrqTarget {

    /** Signal the interrupt once. Called under the device lock; must not block. */
    void trigger();
}
