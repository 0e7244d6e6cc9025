package io.vfu.it;

import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.Fds;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.UnixSockets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Fds of every kind a hostile client can attach to a message (SCM_RIGHTS dups them into the server, so the
 * test's copies are closed by {@link #close()}): eventfds, memfds of random sizes, both ends of pipes,
 * socketpair ends, {@code /dev/null} and regular files ({@link #TEMP_FILES} of them, {@code file-N} in the
 * folder given, which must exist). The other end of a pipe or socketpair goes to {@link PeerEnds}. Memfds are
 * named {@link #memfdName} so their mappings can be found in the server's {@code /proc/PID/maps};
 * {@link #shrinkMemfds} truncates the ones handed out so far, after the server mapped them. One zoo per
 * connection, used by one thread. Failing to create an fd is the test's fault and throws
 * {@link IllegalStateException}, never an {@code IOException} that could pass for a server's doing.
 */
final class FdZoo implements AutoCloseable {

    /** The kinds, in the order {@link #any} picks from. */
    enum Kind { EVENTFD, MEMFD, PIPE_READ, PIPE_WRITE, SOCKET, DEV_NULL, TEMP_FILE }

    private static final long[] MEMFD_SIZES = {0, 1, 4095, 4096, 8192, 65536, 1 << 20, (2 << 20) + 123};

    private static final int KEPT_MEMFDS = 32;
    /** Regular files the zoo opens: {@code file-0} to {@code file-3} in its folder. */
    static final int TEMP_FILES = 4;

    private final Random random;
    private final String memfdName;
    private final PeerEnds peerEnds;
    private final Path tempDir;
    private final List<OwnedFd> owned = new ArrayList<>();
    private final List<OwnedFd> memfds = new ArrayList<>();

    FdZoo(Random random, String memfdName, PeerEnds peerEnds, Path tempDir) {
        this.random = random;
        this.memfdName = memfdName;
        this.peerEnds = peerEnds;
        this.tempDir = tempDir;
    }

    /** {@code n} new fds of random kinds (raw numbers; the zoo owns them). */
    int[] any(int n) {
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            fds[i] = of(Kind.values()[random.nextInt(Kind.values().length)]);
        }
        return fds;
    }

    /** {@code n} new fds, mostly eventfds (what SET_IRQS expects) and now and then another kind. */
    int[] mostlyEventFds(int n) {
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            fds[i] = random.nextInt(8) == 0 ? any(1)[0] : of(Kind.EVENTFD);
        }
        return fds;
    }

    /**
     * A new fd of {@code kind} (a raw number; the zoo owns it).
     *
     * @throws IllegalStateException the test could not create it (a fault of the test, never of the server)
     */
    int of(Kind kind) {
        try {
            return create(kind);
        } catch (IOException e) {
            throw new IllegalStateException("the fuzzer could not create a " + kind + " fd", e);
        }
    }

    private int create(Kind kind) throws IOException {
        return switch (kind) {
            case EVENTFD -> own(EventFd.create().fd());
            case MEMFD -> memfd(MEMFD_SIZES[random.nextInt(MEMFD_SIZES.length)]);
            case PIPE_READ -> pipeEnd(0);
            case PIPE_WRITE -> pipeEnd(1);
            case SOCKET -> {
                OwnedFd[] pair = UnixSockets.pair();
                peerEnds.hold(pair[1]);
                yield own(pair[0]);
            }
            case DEV_NULL -> own(Fds.openReadWrite(Path.of("/dev/null")));
            case TEMP_FILE -> own(Fds.openReadWrite(tempDir.resolve("file-" + random.nextInt(TEMP_FILES))));
        };
    }

    /** A new memfd of {@code size} bytes named {@link #memfdName} (a raw number; the zoo owns it). */
    int memfd(long size) {
        try {
            OwnedFd fd = MemFd.create(memfdName, size);
            memfds.add(fd);
            return own(fd);
        } catch (IOException e) {
            throw new IllegalStateException("the fuzzer could not create a memfd", e);
        }
    }

    /** Truncates every memfd handed out so far to a random smaller size (0 included), as a client may. */
    void shrinkMemfds() {
        for (OwnedFd fd : memfds) {
            try {
                MemFd.truncate(fd, random.nextInt(3) == 0 ? 0 : random.nextInt(4096));
            } catch (IOException e) {
                throw new IllegalStateException("the fuzzer could not truncate a memfd", e);
            }
        }
    }

    /**
     * Closes the test's copies of what was sent so far (the message took dups), except the newest
     * {@link #KEPT_MEMFDS} memfds, which {@link #shrinkMemfds} may still truncate. Keeps a long session from
     * piling up fds in the test.
     */
    void sent() {
        owned.removeIf(fd -> {
            if (memfds.contains(fd)) {
                return false;
            }
            fd.close();
            return true;
        });
        while (memfds.size() > KEPT_MEMFDS) {
            OwnedFd oldest = memfds.removeFirst();
            owned.remove(oldest);
            oldest.close();
        }
    }

    private int pipeEnd(int which) throws IOException {
        OwnedFd[] p = Fds.pipe();
        peerEnds.hold(p[1 - which]);
        return own(p[which]);
    }

    private int own(OwnedFd fd) {
        owned.add(fd);
        return fd.fd();
    }

    /** Closes the test's copies of every fd handed out (the server keeps its own, or closed them). */
    @Override
    public void close() {
        owned.forEach(OwnedFd::close);
        owned.clear();
        memfds.clear();
    }
}
