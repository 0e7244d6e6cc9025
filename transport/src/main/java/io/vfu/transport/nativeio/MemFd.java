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

    /**
     * A memfd of {@code size} bytes whose size can never change again: sealed against shrinking and growing
     * (F_SEAL_SHRINK, F_SEAL_GROW, then F_SEAL_SEAL), so a peer it is passed to can map and write it but never
     * truncate it under our own mapping (which would turn our next access into a bus error).
     */
    public static OwnedFd createSealed(String name, long size) throws NativeCallException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        OwnedFd fd = OwnedFd.adopt(Libc.memfdCreate(name, Libc.MFD_CLOEXEC | MFD_ALLOW_SEALING));
        try {
            Libc.ftruncate(fd.fd(), size);
            Libc.fcntl(fd.fd(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW);
            return fd;
        } catch (NativeCallException e) {
            fd.close();
            throw e;
        }
    }

    private static final int MFD_ALLOW_SEALING = 0x2;
    private static final int F_ADD_SEALS = 1033;
    private static final int F_SEAL_SEAL = 0x1;
    private static final int F_SEAL_SHRINK = 0x2;
    private static final int F_SEAL_GROW = 0x4;

    /** Shrinks or grows the file behind {@code fd} to {@code size} bytes (ftruncate(2)). */
    public static void truncate(OwnedFd fd, long size) throws NativeCallException {
        Libc.ftruncate(fd.fd(), size);
    }
}
