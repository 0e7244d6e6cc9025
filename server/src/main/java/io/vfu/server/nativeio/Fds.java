package io.vfu.server.nativeio;

import java.io.FileDescriptor;
import java.io.IOException;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Conversions between {@link FileDescriptor} (what junixsocket hands out and takes for SCM_RIGHTS) and raw
 * int fds, via junixsocket's {@link FileDescriptorCast}. Neither conversion transfers ownership: the
 * {@code FileDescriptor} objects junixsocket creates for received fds carry no cleaner, so the int taken
 * from one is owned by whoever wraps it in an {@link OwnedFd}.
 */
public final class Fds {

    private Fds() {
    }

    /** The raw int behind a {@code FileDescriptor}. */
    public static int toInt(FileDescriptor fd) throws IOException {
        return FileDescriptorCast.using(fd).as(Integer.class);
    }

    /** A {@code FileDescriptor} naming the raw int {@code fd}, e.g. to send it; ownership stays with the caller. */
    public static FileDescriptor toFileDescriptor(int fd) throws IOException {
        return FileDescriptorCast.unsafeUsing(fd).getFileDescriptor();
    }

    /** The real uid of this process (getuid(2)), to compare with a peer's SO_PEERCRED uid. */
    public static long currentUid() {
        return Libc.getuid();
    }

    /** Clears O_NONBLOCK on {@code fd}. */
    public static void setBlocking(int fd) throws NativeCallException {
        int flags = Libc.fcntl(fd, Libc.F_GETFL, 0);
        if ((flags & Libc.O_NONBLOCK) != 0) {
            Libc.fcntl(fd, Libc.F_SETFL, flags & ~Libc.O_NONBLOCK);
        }
    }

    /** Whether {@code fd} is an open descriptor of this process (fcntl F_GETFD). */
    public static boolean isOpen(int fd) {
        try {
            Libc.fcntl(fd, Libc.F_GETFD, 0);
            return true;
        } catch (NativeCallException e) {
            return false;
        }
    }
}
