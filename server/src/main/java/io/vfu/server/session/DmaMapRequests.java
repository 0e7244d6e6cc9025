package io.vfu.server.session;

import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import io.vfu.server.dma.DmaMapTable;
import io.vfu.server.dma.DmaMapping;
import io.vfu.server.dma.FileMappings;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.ReceivedFds;
import io.vfu.server.device.DeviceHost;
import java.util.List;
import java.util.Optional;

/** {@code VFIO_USER_DMA_MAP} and {@code VFIO_USER_DMA_UNMAP} for one session. */
final class DmaMapRequests {

    private final DmaMapTable table;
    private final FileMappings files;
    private final DeviceHost host;

    DmaMapRequests(DmaMapTable table, FileMappings files, DeviceHost host) {
        this.table = table;
        this.files = files;
        this.host = host;
    }

    /**
     * Adds a window. With an fd, the client's memory is mmap'd for direct DMA (one mapping per file, shared by
     * its windows: {@link FileMappings}) and the fd closed at once (the mapping keeps the memory); without one,
     * DMA to the window goes by message.
     *
     * <p>Access modes (the decoder has checked that one comes only with an fd): the mmap mode is what an fd
     * always meant here. The file I/O mode asks for pread/pwrite on the fd; a shared mapping of the same file
     * range reaches the same bytes, coherently with such calls through the page cache, so a file I/O fd that
     * can be mmap'd is served by mapping it. One that cannot (libvfio-user's motivating case,
     * {@code /proc/PID/mem}) fails mmap and the map is refused EINVAL, as any unmappable fd is: this server
     * has no pread/pwrite DMA path, and falling back to DMA_READ/DMA_WRITE would ask the client for a
     * transport it did not offer.
     */
    void map(DmaMap.Request r, ReceivedFds fds) throws MessageException {
        boolean readable = (r.flags() & DmaMap.FLAG_READ) != 0;
        boolean writable = (r.flags() & DmaMap.FLAG_WRITE) != 0;
        if (r.size() <= 0 || Long.compareUnsigned(r.address() + (r.size() - 1), r.address()) < 0) {
            throw new MessageException(Errno.EINVAL, "DMA window is empty or wraps the address space");
        }
        if (fds.count() == 0) {
            table.map(new DmaMapping(r.address(), r.size(), readable, writable, Optional.empty()), () -> { });
            tellDevice(r, readable, writable);
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
        tellDevice(r, readable, writable);
    }

    /** Tells the device of the new window; if the device refuses it, the window goes again and so does the map. */
    private void tellDevice(DmaMap.Request r, boolean readable, boolean writable) throws MessageException {
        try {
            host.onDevice(d -> d.dmaMapped(r.address(), r.size(), readable, writable));
        } catch (RuntimeException e) {
            // Rule: the client is told the map failed, so the window must not exist.
            table.unmap(r.address(), r.size());
            throw e;
        }
    }

    /** Removes one window exactly, or all with the unmap-all flag; the reply echoes the request. */
    DmaUnmap.Reply unmap(DmaUnmap.Request r) throws MessageException {
        if ((r.flags() & DmaUnmap.FLAG_UNMAP_ALL) != 0) {
            List<DmaMapping> gone = table.unmapAll();
            host.onDevice(d -> gone.forEach(m -> d.dmaUnmapped(m.address(), m.size())));
        } else {
            table.unmap(r.address(), r.size());
            host.onDevice(d -> d.dmaUnmapped(r.address(), r.size()));
        }
        return new DmaUnmap.Reply(r.argsz(), r.flags(), r.address(), r.size());
    }
}
