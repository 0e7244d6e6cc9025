package io.vfu.server.session;

import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.server.dma.DmaMapTable;
import io.vfu.server.dma.DmaMapping;
import io.vfu.server.nativeio.Mmap;
import io.vfu.server.nativeio.NativeCallException;
import io.vfu.server.nativeio.OwnedFd;
import io.vfu.server.transport.ReceivedFds;
import java.util.Optional;

/** {@code VFIO_USER_DMA_MAP} and {@code VFIO_USER_DMA_UNMAP} for one session. */
final class DmaMapRequests {

    private final DmaMapTable table;

    DmaMapRequests(DmaMapTable table) {
        this.table = table;
    }

    /**
     * Adds a window. With an fd, the client's memory is mmap'd for direct DMA and the fd closed at once (the
     * mapping keeps the memory); without one, DMA to the window goes by message.
     */
    void map(DmaMap.Request r, ReceivedFds fds) throws MessageException {
        boolean readable = (r.flags() & DmaMap.FLAG_READ) != 0;
        boolean writable = (r.flags() & DmaMap.FLAG_WRITE) != 0;
        if (r.size() <= 0 || Long.compareUnsigned(r.address() + (r.size() - 1), r.address()) < 0) {
            throw new MessageException(Errno.EINVAL, "DMA window is empty or wraps the address space");
        }
        if (fds.count() == 0) {
            table.map(new DmaMapping(r.address(), r.size(), readable, writable, Optional.empty()), () -> { });
            return;
        }
        Mmap mmap;
        try (OwnedFd fd = fds.take(0)) {
            mmap = Mmap.map(fd, r.offset(), r.size(), writable);
        } catch (NativeCallException | IllegalArgumentException e) {
            // Rule: an fd that cannot back the whole window (too short, not mappable) is EINVAL, never a crash.
            throw new MessageException(Errno.EINVAL, "cannot mmap the DMA window: " + e.getMessage());
        }
        try {
            table.map(new DmaMapping(r.address(), r.size(), readable, writable, Optional.of(mmap.segment())),
                    mmap::close);
        } catch (MessageException | RuntimeException e) {
            mmap.close();
            throw e;
        }
    }

    /** Removes one window exactly, or all with the unmap-all flag; the reply echoes the request. */
    DmaUnmap.Reply unmap(DmaUnmap.Request r) throws MessageException {
        if ((r.flags() & DmaUnmap.FLAG_UNMAP_ALL) != 0) {
            table.unmapAll();
        } else {
            table.unmap(r.address(), r.size());
        }
        return new DmaUnmap.Reply(r.argsz(), r.flags(), r.address(), r.size());
    }
}
