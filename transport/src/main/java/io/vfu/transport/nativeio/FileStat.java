package io.vfu.transport.nativeio;

/**
 * What fstat(2) says about an open file: which file it is and how large it is now.
 *
 * @param dev  st_dev, the device holding the file
 * @param ino  st_ino, the file on that device; (dev, ino) names one file however many fds point at it
 * @param size st_size in bytes (0 for pipes, sockets and the like)
 */
public record FileStat(long dev, long ino, long size) {

    /** fstat of {@code fd}. */
    public static FileStat of(OwnedFd fd) throws NativeCallException {
        return Libc.fstat(fd.fd());
    }
}
