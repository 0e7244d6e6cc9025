package io.vfu.server.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * fds of every kind a hostile client might pass where an eventfd or a memfd belongs: pipes and plain files
 * (pipe2(2), open(2)), bound for tests only; sockets come from {@link UnixSockets#pair()}.
 */
@SuppressWarnings("restricted")
public final class TestFds {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PIPE2 = LINKER.downcallHandle(LINKER.defaultLookup().find("pipe2").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final int O_RDWR = 2;

    private TestFds() {
    }

    /** A pipe: {read end, write end}, close-on-exec. */
    public static OwnedFd[] pipe() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.invokeExact(fds, Libc.O_CLOEXEC);
            if (r != 0) {
                throw new IllegalStateException("pipe2 failed");
            }
            return new OwnedFd[] {OwnedFd.adopt(fds.getAtIndex(JAVA_INT, 0)), OwnedFd.adopt(fds.getAtIndex(JAVA_INT, 1))};
        }
    }

    /** An existing file (or device such as /dev/null) opened read-write, close-on-exec. */
    public static OwnedFd open(Path path) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(a.allocateFrom(path.toString()), O_RDWR | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new IllegalStateException("open failed: " + path);
            }
            return OwnedFd.adopt(fd);
        }
    }

    /** Shrinks or grows the file behind {@code fd} (ftruncate(2)). */
    public static void truncate(OwnedFd fd, long size) throws NativeCallException {
        Libc.ftruncate(fd.fd(), size);
    }
}
