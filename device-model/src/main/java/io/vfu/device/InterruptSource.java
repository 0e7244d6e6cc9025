package io.vfu.device;

/** The device's interrupt sources, as {@link io.vfu.device.pci.InterruptStats} counts them (one metric label each). */
public enum InterruptSource {
    /** The INTA pin (spec "VFIO_USER_DEVICE_SET_IRQS", index VFIO_PCI_INTX_IRQ_INDEX). */
    INTX,
    /** MSI-X vectors (PCI 6.8.2; index VFIO_PCI_MSIX_IRQ_INDEX). */
    MSIX,
    /** IMS entries in BAR4 (device-specific, delivered as posted writes). */
    IMS;

    /** Lower-case name for a metric label: {@code intx}, {@code msix}, {@code ims}. */
    public String label() {
        return switch (this) {
            case INTX -> "intx";
            case MSIX -> "msix";
            case IMS -> "ims";
        };
    }
}
