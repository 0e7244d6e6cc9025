package io.vfu.server.session;

import io.vfu.device.IrqTarget;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.NativeCallException;

/**
 * An interrupt target backed by an eventfd the client passed with {@code VFIO_USER_DEVICE_SET_IRQS}
 * (spec: "The server may trigger the IRQ by writing 1 to the eventfd"). The session owns it until the device
 * model takes it; whoever holds it last closes it.
 */
final class EventFdTarget implements IrqTarget, AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EventFdTarget.class);

    private final EventFd eventFd;
    private final DeviceMetrics metrics;

    /** @param eventFd adopted with {@link EventFd#adoptInterruptTarget}, so a signal never blocks */
    EventFdTarget(EventFd eventFd, DeviceMetrics metrics) {
        this.eventFd = eventFd;
        this.metrics = metrics;
    }

    @Override
    public void trigger() {
        try {
            if (!eventFd.signal()) {
                // Rule: a full counter (EAGAIN) means an interrupt is pending there already; this one merges
                // into it, as a second signal merges into a set pending bit. Counted, never waited for.
                metrics.eventFdFull();
            }
        } catch (NativeCallException e) {
            // Rule: an eventfd write fails only if the counter would overflow or the fd is bad; never throw into
            // the device model, which calls this under the device lock.
            LOG.warn("eventfd signal failed: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        eventFd.close();
    }

    /** Closes a target the device model handed back, if it is one of ours. */
    static void release(IrqTarget target) {
        if (target instanceof EventFdTarget t) {
            t.close();
        }
    }
}
