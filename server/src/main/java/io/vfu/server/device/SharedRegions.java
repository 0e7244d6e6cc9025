package io.vfu.server.device;

import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.NativeCallException;
import io.vfu.transport.nativeio.OwnedFd;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * The memory a device shares with its clients, one memfd per region (spec: one fd covers the whole region, at
 * region offset 0). Mapped here for the device to read and write, and passed to each client with the region's
 * info so it can map the region's mmap areas into the guest. Lives as long as the device: a reconnecting client
 * sees what the guest wrote before.
 */
final class SharedRegions implements AutoCloseable {

    private record Shared(OwnedFd fd, Mmap map) {
    }

    private final String device;
    private final Map<Integer, Shared> regions = new HashMap<>();

    SharedRegions(String device) {
        this.device = device;
    }

    synchronized MemorySegment create(int region, long size) {
        // Rule: whole pages (the client maps pages), and one memory per region.
        if (size <= 0 || size > (1L << 40) || regions.containsKey(region)) {
            throw new IllegalArgumentException("shared memory for region " + region + " of " + size
                    + " bytes: must be positive, at most 1 TiB, once per region");
        }
        long pages = (size + 4095) & ~4095L;
        OwnedFd fd;
        try {
            // Rule: sealed against shrinking: every client gets this fd, and none may cut the memory under the
            // device (its next access would be a bus error) or under the next client.
            fd = MemFd.createSealed("vfu-" + device + "-region" + region, pages);
        } catch (NativeCallException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Mmap map = Mmap.map(fd, 0, pages, true);
            regions.put(region, new Shared(fd, map));
            return map.segment();
        } catch (NativeCallException | RuntimeException e) {
            fd.close();
            throw e instanceof NativeCallException n ? new UncheckedIOException(n) : (RuntimeException) e;
        }
    }

    synchronized long size(int region) {
        Shared s = regions.get(region);
        return s == null ? 0 : s.map().length();
    }

    synchronized int fd(int region) {
        Shared s = regions.get(region);
        return s == null ? -1 : s.fd().fd();
    }

    @Override
    public synchronized void close() {
        for (Shared s : regions.values()) {
            s.map().close();
            s.fd().close();
        }
        regions.clear();
    }
}
