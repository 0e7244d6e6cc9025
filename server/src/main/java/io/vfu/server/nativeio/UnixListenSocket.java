package io.vfu.server.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Creates a listening AF_UNIX stream socket whose file has the requested mode before anyone can connect:
 * socket, bind, chmod, then listen. Until listen(2) a connect is refused, so there is no window in which
 * the file is reachable with the umask's wider mode.
 */
public final class UnixListenSocket {

    private UnixListenSocket() {
    }

    /** Binds {@code path} (which must not exist), sets {@code mode}, listens; the caller owns the fd. */
    public static OwnedFd bindAndListen(Path path, Set<PosixFilePermission> mode, int backlog) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            // Rule: a path too long for sun_path fails before any fd exists.
            MemorySegment addr = UnixSockets.sockaddr(arena, path);
            OwnedFd fd = OwnedFd.adopt(
                    Libc.socket(UnixSockets.AF_UNIX, UnixSockets.SOCK_STREAM | UnixSockets.SOCK_CLOEXEC, 0));
            try {
                Libc.bind(fd.fd(), addr, (int) addr.byteSize());
                try {
                    Files.setPosixFilePermissions(path, mode);
                    Libc.listen(fd.fd(), backlog);
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(path);
                    throw e;
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                fd.close();
                throw e;
            }
        }
    }
}
