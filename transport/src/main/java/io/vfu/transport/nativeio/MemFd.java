package io.vfu.transport.nativeio;

/**
 * Anonymous shared memory files (memfd_create(2)): what a client passes with DMA_MAP for guest RAM, and what
 * a server passes for an mmap-able region.
 */
public final class MemFd {

    private MemFd() {
    }

    /** A close-on-exec memfd named {@code name} (for /proc only), sized to {@code size} bytes. */
    public static OwnedFd create(String name, long size) throws NativeCallException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        OwnedFd fd = OwnedFd.adopt(Libc.memfdCreate(name, Libc.MFD_CLOEXEC));
        try {
            Libc.ftruncate(fd.fd(), size);
            return fd;
        } catch (NativeCallException e) {
            fd.close();
            throw e;
        }
    }

    /** Shrinks or grows the file behind {@code fd} to {@code size} bytes (ftruncate(2)). */
    public static void truncate(OwnedFd fd, long size) throws NativeCallException {
        Libc.ftruncate(fd.fd(), size);
    }
}
