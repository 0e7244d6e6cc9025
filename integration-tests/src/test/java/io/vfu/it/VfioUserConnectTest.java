package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's vfio-user-pci connects to its server while the machine is built, before qtest answers anything, so
 * a server that is missing, refusing or silent makes QEMU exit with an error a user can act on.
 */
class VfioUserConnectTest {
    private final Provisioned provisioned = Provisioned.load();

    @TempDir
    Path dir;

    private QtestException startFails(QemuArgs args) {
        return assertThrows(QtestException.class, () -> QtestSession.start(args, Duration.ofSeconds(30)).close());
    }

    @Test
    void noSocketFileFailsToStart() {
        Path sock = dir.resolve("absent.sock");
        QtestException e = startFails(QemuArgs.qtest(provisioned).vfioUserDevice(sock));
        assertTrue(e.getMessage().contains("Failed to connect to '" + sock + "': No such file or directory"),
                e.getMessage());
        assertTrue(e.getMessage().contains("QEMU exited with code 1"), e.getMessage());
    }

    @Test
    void aSocketNobodyListensOnIsRefused() throws Exception {
        Path sock = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(Files.exists(sock), "closing a Unix server socket leaves its file behind");
        QtestException e = startFails(QemuArgs.qtest(provisioned).vfioUserDevice(sock));
        assertTrue(e.getMessage().contains("Failed to connect to '" + sock + "': Connection refused"), e.getMessage());
    }

    @Test
    void aServerThatNeverAnswersVersionTimesOut() throws Exception {
        Path sock = dir.resolve("silent.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
            QtestException e = startFails(QemuArgs.qtest(provisioned)
                    .vfioUserDevice(sock, Map.of("x-msg-timeout", 300)));
            assertTrue(e.getMessage().contains("timed out waiting for reply"), e.getMessage());
        }
    }
}
