package io.vfu.server.session;

import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import io.vfu.protocol.DeviceGetIrqInfo;
import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.server.device.DeviceHost;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.NotAnEventFdException;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.ReceivedFds;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code VFIO_USER_DEVICE_GET_IRQ_INFO} and {@code VFIO_USER_DEVICE_SET_IRQS}: translates the wire flags to the
 * device model's actions and turns the client's eventfds into interrupt targets.
 */
final class IrqRequests {

    private static final String[] INDEX_NAMES = {"INTX", "MSI", "MSIX", "ERR", "REQ"};

    private final DeviceHost host;
    private final int irqCount;

    IrqRequests(DeviceHost host) {
        this.host = host;
        this.irqCount = host.irqCount();
    }

    DeviceGetIrqInfo.Reply info(DeviceGetIrqInfo.Request r) throws MessageException {
        int index = index(r.index());
        IrqInfo info = host.withDevice(d -> d.interrupts().info(index));
        long flags = (info.eventfd() ? DeviceGetIrqInfo.FLAG_EVENTFD : 0)
                | (info.maskable() ? DeviceGetIrqInfo.FLAG_MASKABLE : 0)
                | (info.automasked() ? DeviceGetIrqInfo.FLAG_AUTOMASKED : 0)
                | (info.noresize() ? DeviceGetIrqInfo.FLAG_NORESIZE : 0);
        return DeviceGetIrqInfo.Reply.of(flags, index, info.count());
    }

    /**
     * Applies one SET_IRQS. Eventfds are taken from the frame; if the device refuses the request, they are
     * closed here (the device changed nothing); targets the device drops are closed after it returns.
     */
    void set(DeviceSetIrqs.Request r, ReceivedFds fds) throws MessageException {
        int index = index(r.index());
        IrqAction action = action(r.action());
        List<EventFdTarget> created = new ArrayList<>();
        IrqData data = switch ((int) r.dataType()) {
            case (int) DeviceSetIrqs.DATA_NONE -> IrqData.NONE;
            case (int) DeviceSetIrqs.DATA_BOOL -> bools(r.data());
            case (int) DeviceSetIrqs.DATA_EVENTFD -> {
                // The decoder checked: no fds (de-assign the range) or exactly count fds.
                List<IrqTarget> targets = new ArrayList<>(fds.count());
                try {
                    for (int i = 0; i < fds.count(); i++) {
                        EventFdTarget t = new EventFdTarget(adopt(fds, i), host.metrics());
                        created.add(t);
                        targets.add(t);
                    }
                } catch (MessageException e) {
                    created.forEach(EventFdTarget::close);
                    throw e;
                }
                yield new IrqData.Targets(targets);
            }
            default -> throw new MessageException(Errno.EINVAL, "bad SET_IRQS data type");
        };
        List<IrqTarget> dropped;
        try {
            dropped = host.withDevice(d -> d.interrupts().set(index, action, r.start(), r.count(), data));
        } catch (RuntimeException e) {
            created.forEach(EventFdTarget::close);
            throw e;
        }
        dropped.forEach(EventFdTarget::release);
        String name = indexName(index);
        host.metrics().setIrqs(name, action.name());
        // Rule (spec SET_IRQS): DATA_NONE with start 0 and count 0 disables the whole index.
        if (r.dataType() == DeviceSetIrqs.DATA_NONE && r.count() == 0 && r.start() == 0
                && action == IrqAction.TRIGGER) {
            host.metrics().irqIndexDisabled(name);
        }
    }

    /**
     * Takes fd {@code i} as an interrupt target. Rule: only an eventfd is accepted, and it is made non-blocking,
     * so no interrupt can ever block the device (EINVAL otherwise, and the fd is closed).
     */
    private static EventFd adopt(ReceivedFds fds, int i) throws MessageException {
        OwnedFd fd = fds.take(i);
        try {
            return EventFd.adoptInterruptTarget(fd);
        } catch (NotAnEventFdException | NativeCallException e) {
            fd.close();
            throw new MessageException(Errno.EINVAL, "SET_IRQS fd " + i + ": " + e.getMessage());
        }
    }

    private static IrqData bools(ByteBuffer data) {
        List<Boolean> flags = new ArrayList<>(data.remaining());
        while (data.hasRemaining()) {
            flags.add(data.get() != 0);
        }
        return new IrqData.Bools(flags);
    }

    private static IrqAction action(long bits) throws MessageException {
        if (bits == DeviceSetIrqs.ACTION_MASK) {
            return IrqAction.MASK;
        } else if (bits == DeviceSetIrqs.ACTION_UNMASK) {
            return IrqAction.UNMASK;
        } else if (bits == DeviceSetIrqs.ACTION_TRIGGER) {
            return IrqAction.TRIGGER;
        }
        throw new MessageException(Errno.EINVAL, "SET_IRQS needs exactly one action");
    }

    private int index(long index) throws MessageException {
        if (index < 0 || index >= irqCount) {
            throw new MessageException(Errno.EINVAL, "no IRQ index " + index);
        }
        return (int) index;
    }

    static String indexName(int index) {
        return index >= 0 && index < INDEX_NAMES.length ? INDEX_NAMES[index] : Integer.toString(index);
    }
}
