package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Issue 5 on the container path, as a user would deploy it: the server image (docker/Dockerfile.server) and the
 * QEMU runner image (docker/Dockerfile.qemu), both started by Testcontainers, share a bind-mounted socket
 * folder; the guest is the same as on the direct path. The server runs as the image's user (uid 10001) and
 * QEMU as uid 2000 in the socket's group 10001, as docker/README.md deploys them. This boot has no memfd
 * backend, so the guest's DMA goes through DMA_READ/DMA_WRITE messages. Images are local
 * ({@link ContainerImages}), never pulled.
 */
class GuestContainersTest {
    @TempDir
    static Path dir;
    static Path initrd;
    static String qemuImage;
    static String serverImage;
    private final Provisioned provisioned = Provisioned.load();

    @BeforeAll
    static void images() throws Exception {
        Provisioned p = Provisioned.load();
        qemuImage = ContainerImages.qemu(p);
        serverImage = ContainerImages.server();
        initrd = GuestInterruptsTest.guestInitrd(p, dir);
        // Rule: as deployed, the socket folder belongs to the server image's user and its group may traverse
        // it; QEMU reaches the socket and the guest's initrd through that group.
        Files.setAttribute(dir, "unix:uid", ContainerImages.SERVER_UID);
        Files.setAttribute(dir, "unix:gid", ContainerImages.SERVER_GID);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
    }

    @AfterAll
    static void report() {
        System.out.println("guest suite: " + GuestSuiteReport.summary());
    }

    @Test
    void serverAndQemuContainersWithMessageDma() throws Exception {
        long t0 = System.nanoTime();
        int port = freePort();
        // Inside the server container the socket folder is its volume /run/vfu; QEMU sees the host path.
        GuestScenario.writeConfig(dir, Path.of("/run/vfu/dev0.sock"), ContainerImages.SERVER_GID);
        Path socket = dir.resolve("dev0.sock");
        List<String> qemuCmd = new GuestRun(provisioned).memoryMib(512)
                .kernelArgs(GuestScenario.kernelArgs(false).toArray(String[]::new))
                .qemuArgs(GuestScenario.qemuArgs(socket, false, 512).toArray(String[]::new))
                .command(initrd);
        ConsoleLines console = new ConsoleLines(() -> metrics(port));
        try (GenericContainer<?> server = new GenericContainer<>(DockerImageName.parse(serverImage))
                .withImagePullPolicy(name -> false)
                .withNetworkMode("host")
                .withFileSystemBind(dir.toString(), "/run/vfu", BindMode.READ_WRITE)
                .withCommand("--config", "/run/vfu/vfu.json", "--metrics-port", Integer.toString(port),
                        "--metrics-host", "127.0.0.1")
                .waitingFor(Wait.forLogMessage(".*vfu-server ready.*", 1).withStartupTimeout(Duration.ofMinutes(1)));
             GenericContainer<?> qemu = new GenericContainer<>(DockerImageName.parse(qemuImage))
                .withImagePullPolicy(name -> false)
                // QEMU as another, unprivileged user whose group is the socket's (docker run --user 2000:10001).
                .withCreateContainerCmdModifier(cmd -> cmd.withUser("2000:" + ContainerImages.SERVER_GID))
                .withNetworkMode("none")
                .withFileSystemBind(dir.toString(), dir.toString(), BindMode.READ_WRITE)
                .withFileSystemBind(provisioned.guestKernel().toString(), provisioned.guestKernel().toString(),
                        BindMode.READ_ONLY)
                .withCommand(qemuCmd.subList(1, qemuCmd.size()).toArray(String[]::new))
                .withLogConsumer(console)
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy()
                        .withTimeout(GuestInterruptsTest.BOOT_LIMIT))) {
            server.start();
            try {
                qemu.start(); // returns once the guest powered off and QEMU exited 0
            } catch (RuntimeException e) {
                throw new AssertionError("QEMU container failed:\n" + console.text() + "\nserver:\n"
                        + server.getLogs(), e);
            }
            String out = console.text();
            GuestResult r = GuestResult.parse(console.lines());
            System.out.println("containers, no memfd (message DMA): " + r.line());
            GuestScenario.assertGuest(r, false, out);
            assertTrue(console.metricsAtResult() != null, "metrics were not read at the result line");
            GuestScenario.assertMetrics(console.metricsAtResult(), false);
            assertTrue(out.contains("vfu-guest: test exit 0"), out);
            assertEquals(1.0, GuestScenario.sum(console.metricsAtResult(), "vfu_sessions_opened_total", ""),
                    "one QEMU session: " + console.metricsAtResult());
            GuestSuiteReport.record("containers", r, System.nanoTime() - t0);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String metrics(int port) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "metrics unreadable: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * The container's console split into lines (log frames are chunks, not lines); when the result line is
     * complete it reads the server's metrics once, while the guest still holds the device.
     */
    static final class ConsoleLines implements Consumer<OutputFrame> {
        private final java.util.function.Supplier<String> atResult;
        private final StringBuilder text = new StringBuilder();
        private volatile String metrics;

        ConsoleLines(java.util.function.Supplier<String> atResult) {
            this.atResult = atResult;
        }

        @Override
        public void accept(OutputFrame frame) {
            boolean scrape;
            synchronized (this) {
                text.append(frame.getUtf8String());
                int at = text.indexOf(GuestResult.RESULT);
                scrape = metrics == null && at >= 0 && text.indexOf("\n", at) > 0;
            }
            if (scrape) {
                metrics = atResult.get();
            }
        }

        synchronized String text() {
            return text.toString();
        }

        List<String> lines() {
            return new ArrayList<>(Arrays.asList(text().split("\r?\n")));
        }

        String metricsAtResult() {
            return metrics;
        }
    }
}
