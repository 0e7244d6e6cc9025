package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vfu.client.Await;
import io.vfu.server.VfuServer;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.transport.nativeio.Fds;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A QEMU running as another user (KubeVirt and Fedora's libvirt run it as uid and gid 107) connects when the
 * configuration lets it and is turned away when it does not. The client is a real process under uid and gid
 * 65534 with no supplementary groups ({@code setpriv --reuid 65534 --regid 65534 --clear-groups}), speaking
 * VERSION from the spec's layout ({@code nonroot/version_client.py}); the server runs in this JVM as root.
 *
 * <p>Needs root (to switch uid) and setpriv: without either the tests fail, they do not skip, since CI runs
 * them as root and a skipped access test would hide a broken promise.
 */
class NonRootClientTest {

    private static final long NOBODY = 65534;
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @TempDir
    Path dir;
    private Path socket;
    private Path script;
    private VfuServer server;

    @BeforeAll
    static void rootSetprivAndASharedPython() {
        assertEquals(0, Fds.currentUid(), "NonRootClientTest switches its client to uid 65534 and so must run "
                + "as root (id -u is " + Fds.currentUid() + "); CI runs the suite as root");
        try {
            Process p = new ProcessBuilder("setpriv", "--version").redirectErrorStream(true).start();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "setpriv --version failed");
        } catch (IOException | InterruptedException e) {
            fail("setpriv (util-linux) is required to run a client under another uid and could not be started", e);
        }
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is required: uid 65534 must be able to run python3 "
                + "(a pyenv shim under /root is not reachable for it)");
    }

    @BeforeEach
    void aFolderUid65534CanReach() throws IOException {
        // Rule: the socket's folder must be traversable by the client's uid (a JUnit @TempDir is 0700).
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        socket = dir.resolve("vfu.sock");
        script = dir.resolve("version_client.py");
        try (InputStream in = getClass().getResourceAsStream("/nonroot/version_client.py")) {
            Files.copy(in, script);
        }
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(List<Long> uids, List<Long> gids, SocketMode mode, SocketGroup group) throws IOException {
        server = VfuServer.start(new ServerConfig(List.of(DeviceSpec.defaultDevice("default", socket)), uids, null,
                gids, mode, group), Optional.empty(), "127.0.0.1");
    }

    /** The client run as uid and gid 65534: its exit status and its one line of output. */
    private record Outcome(int exit, String line) {
    }

    private Outcome clientAsNobody() throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid", Long.toString(NOBODY), "--regid", Long.toString(NOBODY),
                "--clear-groups", PYTHON.toString(), script.toString(), socket.toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the client did not finish");
        return new Outcome(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    /** The scrape once it counts the refused session. */
    private String refusedCount() throws InterruptedException {
        String want = "vfu_sessions_refused_total{device=\"default\"} 1.0";
        Await.until(Duration.ofSeconds(5), () -> server.registry().scrape().contains(want),
                () -> want + " in the scrape:\n" + server.registry().scrape());
        return server.registry().scrape();
    }

    @Test
    void aClientWhoseGidIsAllowedConnectsThroughMode0660AndTheSocketsGroupAndIsServed() throws Exception {
        start(List.of(), List.of(NOBODY), SocketMode.parse("0660"), SocketGroup.ofGid(NOBODY));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals((int) NOBODY, Files.getAttribute(socket, "unix:gid"), "the socket file's group");
        assertEquals(0, Files.getAttribute(socket, "unix:uid"), "still owned by the server's user");
        Outcome o = clientAsNobody();
        assertEquals(new Outcome(0, "SERVED uid=65534 gid=65534"), o);
    }

    @Test
    void aClientWhoseUidIsAllowedConnectsThroughMode0666AndIsServed() throws Exception {
        start(List.of(NOBODY), List.of(), SocketMode.parse("0666"), null);
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals(new Outcome(0, "SERVED uid=65534 gid=65534"), clientAsNobody());
    }

    @Test
    void theDefaultPrivateSocketRefusesAnotherUserAtConnect() throws Exception {
        start(List.of(NOBODY), List.of(NOBODY), null, null);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        // Allowed by uid and gid, but the file's mode stops connect(2) first: both layers must agree.
        assertEquals(new Outcome(3, "EACCES uid=65534 gid=65534"), clientAsNobody());
        assertTrue(server.registry().scrape().contains("vfu_sessions_opened_total{device=\"default\"} 0.0"),
                "the server never saw the client");
    }

    @Test
    void aClientThatMayConnectButIsNotAllowedIsClosedUnserved() throws Exception {
        start(List.of(), List.of(), SocketMode.parse("0666"), null);
        assertEquals(new Outcome(4, "CLOSED uid=65534 gid=65534"), clientAsNobody());
        String scrape = refusedCount();
        assertTrue(scrape.contains("vfu_sessions_refused_total{device=\"default\"} 1.0"), scrape);
        assertTrue(scrape.contains("vfu_sessions_opened_total{device=\"default\"} 0.0"), scrape);
    }

    @Test
    void aGroupThatMayConnectButIsNotAnAllowedGidIsClosedUnserved() throws Exception {
        // The socket's group lets the client connect; serving it takes allowedGids (or allowedUids) as well.
        start(List.of(), List.of(107L), SocketMode.parse("0660"), SocketGroup.ofGid(NOBODY));
        assertEquals(new Outcome(4, "CLOSED uid=65534 gid=65534"), clientAsNobody());
        assertTrue(refusedCount().contains("vfu_sessions_refused_total{device=\"default\"} 1.0"));
    }
}
