package io.vfu.server.session;

import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.server.dma.DmaMapTable;
import io.vfu.server.dma.DmaMapping;
import io.vfu.server.dma.FileMappings;
import io.vfu.server.nativeio.OwnedFd;
import io.vfu.server.transport.ReceivedFds;
import java.util.Optional;

/** {@code VFIO_USER_DMA_MAP} and {@code VFIO_USER_DMA_UNMAP} for one session. */
final class DmaMapRequests {

    private final DmaMapTable table;
    private final FileMappings files;

    DmaMapRequests(DmaMapTable table, FileMappings files) {
        this.table = table;
        this.files = files;
    }

    /**
     * Adds a window. With an fd, the client's memory is mmap'd for direct DMA (one mapping per file, shared by
     * its windows: {@link FileMappings}) and the fd closed at once (the mapping keeps the memory); without one,
     * DMA to the window goes by message.
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
        FileMappings.Window window;
        try (OwnedFd fd = fds.take(0)) {
            // Rule: a window that does not lie inside its file now is EINVAL, and a file past the session's or
            // the process's mapping budget is ENOSPC; the session goes on either way.
            window = files.map(fd, r.offset(), r.size(), writable);
        }
        try {
            table.map(new DmaMapping(r.address(), r.size(), readable, writable, Optional.of(window.segment())),
                    window.release());
        } catch (MessageException | RuntimeException e) {
            window.release().release();
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
