package io.vfu.server.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
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

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SUN_PATH = 108;

    private UnixListenSocket() {
    }

    /** Binds {@code path} (which must not exist), sets {@code mode}, listens; the caller owns the fd. */
    public static OwnedFd bindAndListen(Path path, Set<PosixFilePermission> mode, int backlog) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            throw new IOException("socket path longer than " + (SUN_PATH - 1) + " bytes: " + path);
        }
        OwnedFd fd = OwnedFd.adopt(Libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        try (Arena arena = Arena.ofConfined()) {
            // struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }
            MemorySegment addr = arena.allocate(2 + SUN_PATH);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            Libc.bind(fd.fd(), addr, 2 + name.length + 1);
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
