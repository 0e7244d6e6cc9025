package io.vfu.device;

/** The PCI interrupt indexes of vfio (spec "VFIO_USER_DEVICE_GET_IRQ_INFO"; values are the wire indexes). */
public final class IrqIndex {
    public static final int INTX = 0;
    public static final int MSI = 1;
    public static final int MSIX = 2;
    public static final int ERR = 3;
    public static final int REQ = 4;
    /** Number of indexes this device reports. */
    public static final int COUNT = 5;

    private IrqIndex() {
    }
}
