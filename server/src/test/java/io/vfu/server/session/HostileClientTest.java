package io.vfu.server.session;

import io.vfu.transport.nativeio.Fds;
import static io.vfu.server.session.TestDevice.BAR0;
import static io.vfu.server.session.TestDevice.CONFIG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.Errno;
import io.vfu.server.VfuServer;
import io.vfu.client.DmaHandler;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.UnixSockets;
import io.vfu.transport.ErrorReplyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile client passes where an interrupt target belongs: anything but an eventfd is refused, and an
 * eventfd the client filled to its maximum never blocks the device (issue "Hardening", fault 2).
 */
class HostileClientTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final long EVENTFD_MAX = 0xFFFF_FFFF_FFFF_FFFEL;

    @TempDir
    Path dir;
    Path socket;
    VfuServer server;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("dev0.sock");
        server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static long errno(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(ErrorReplyException.class, e).errno();
    }

    @Test
    void setIrqsRefusesEveryFdThatIsNotAnEventfd() throws Throwable {
        Path file = Files.writeString(dir.resolve("plain-file"), "not an eventfd");
        OwnedFd[] pipe = Fds.pipe();
        OwnedFd[] sockets = UnixSockets.pair();
        try (OwnedFd pipeRead = pipe[0]; OwnedFd pipeWrite = pipe[1]; OwnedFd s0 = sockets[0];
             OwnedFd s1 = sockets[1]; OwnedFd plain = Fds.openReadWrite(file);
             OwnedFd devNull = Fds.openReadWrite(Path.of("/dev/null"));
             OwnedFd memfd = MemFd.create("not-an-eventfd", 4096);
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll());
             EventFd real = EventFd.create()) {
            d.enableMsix();
            int before = Fds.openCount();
            for (OwnedFd fd : List.of(pipeWrite, pipeRead, s0, plain, devNull, memfd)) {
                assertEquals(Errno.EINVAL.code(), errno(() -> d.assignVector(0, fd.fd())),
                        "SET_IRQS with " + Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.fd())));
            }
            assertEquals(before, Fds.openCount(), "the server closed every refused fd");
            // The refusals changed nothing: a real eventfd is taken and signalled.
            d.assignVector(0, real.fd().fd());
            d.write(BAR0, 0x40, 4, 0);
            assertEquals(1, real.await(WAIT).orElseThrow(), "vector 0 delivered to the eventfd");
        }
    }

    @Test
    void anEventfdFilledToItsMaximumNeverBlocksTheDevice() throws Exception {
        try (EventFd full = EventFd.create()) {
            full.add(EVENTFD_MAX); // the next write(2) of 1 would block a blocking eventfd for good
            try (TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
                d.enableMsix();
                d.assignVector(0, full.fd().fd());
                // Each doorbell raises vector 0; the device answers at once and stays usable.
                d.write(BAR0, 0x40, 4, 0);
                d.write(BAR0, 0x40, 4, 0);
                assertEquals(0x1b5a, d.read(CONFIG, 0, 2), "the device still answers");
                assertEquals(2, d.read(BAR0, 0x2000, 4), "per-vector delivery counter of vector 0");
            }
            String scrape = server.registry().scrape();
            assertTrue(scrape.contains("vfu_interrupts_eventfd_full_total{device=\"default\"} 2.0"), scrape);
            assertEquals(EVENTFD_MAX, full.read(), "the pending count is still there for the client");
            // The next client is served: the device was never wedged.
            try (TestDevice next = TestDevice.open(socket, DmaHandler.refuseAll())) {
                assertEquals(0x1b5a, next.read(CONFIG, 0, 2));
            }
        }
    }
}
