package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.HealthState;
import com.github.dockerjava.api.model.Bind;
import io.vfu.client.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Issue 14, the container image as an operator deploys it (docker/README.md): the server image started with its
 * own default command under a 256 MiB memory limit, its socket folder a named volume, and QEMU from the runner
 * image in another container under another uid attaching through that volume. Nothing is overridden that the
 * README does not override, so what passes here is what a user gets from {@code docker run}.
 */
class ServerImageTest {
    private static final long MEMORY_LIMIT = 256L << 20;
    private static final String SOCKET = "vfu.sock";
    private static final int METRICS_PORT = 9464;

    static String qemuImage;
    static String volume;
    static GenericContainer<?> server;

    @BeforeAll
    static void serverOnANamedVolume() throws Exception {
        qemuImage = ContainerImages.qemu(Provisioned.load());
        String serverImage = ContainerImages.server();
        volume = "vfu-it-" + UUID.randomUUID();
        docker().createVolumeCmd().withName(volume).exec();
        // Default bridge network: the metrics port is the container's own 9464, reached at its address.
        server = new GenericContainer<>(DockerImageName.parse(serverImage))
                .withImagePullPolicy(name -> false)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withBinds(Bind.parse(volume + ":/run/vfu")).withMemory(MEMORY_LIMIT))
                .waitingFor(Wait.forLogMessage("vfu-server ready .*\\n", 1).withStartupTimeout(Duration.ofMinutes(1)));
        server.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
        if (volume != null) {
            docker().removeVolumeCmd(volume).exec();
        }
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private static String exec(String... command) throws IOException, InterruptedException {
        ExecResult r = server.execInContainer(command);
        assertEquals(0, r.getExitCode(), String.join(" ", command) + ": " + r.getStderr());
        return r.getStdout();
    }

    /** The server's /metrics, read from the host at the container's address as a scraper would. */
    private static Scrape scrape() {
        String ip = server.getContainerInfo().getNetworkSettings().getIpAddress();
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://" + ip + ":" + METRICS_PORT + "/metrics")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Scrape.parse(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while scraping", e);
        }
    }

    private static double sessions(String metric) {
        return scrape().sum(metric, Map.of("device", "default"));
    }

    @Test
    void theServerIsPid1UnderTheImagesUnprivilegedUidAndGid() throws Exception {
        String status = exec("cat", "/proc/1/status");
        assertTrue(status.contains("\nUid:\t10001\t10001\t10001\t10001\n"), status);
        assertTrue(status.contains("\nGid:\t10001\t10001\t10001\t10001\n"), status);
        // PID 1 is the JVM itself (the entrypoint exec's it), so docker stop's SIGTERM reaches the server.
        assertTrue(exec("cat", "/proc/1/cmdline").startsWith("/opt/vfu/runtime/bin/java\0"));
        // The socket is the server's, in its group, and only owner and group may connect.
        assertEquals("660 10001 10001 socket\n", exec("stat", "-c", "%a %u %g %F", "/run/vfu/" + SOCKET));
        assertEquals("750 10001 10001\n", exec("stat", "-c", "%a %u %g", "/run/vfu"));
    }

    @Test
    void dockerReportsTheHealthcheckOnHealthzHealthy() throws Exception {
        Await.until(Duration.ofSeconds(60), () -> "healthy".equals(health().getStatus()),
                () -> "the container's health: " + health().getStatus() + " " + health().getLog());
        assertEquals(0L, health().getLog().getLast().getExitCodeLong(), "the last probe's status");
    }

    private static HealthState health() {
        return docker().inspectContainerCmd(server.getContainerId()).exec().getState().getHealth();
    }

    @Test
    void theServerStartedFromTheAotCacheTrainedAtImageBuild() throws Exception {
        // The JVM maps a cache it accepted; one it refused (another runtime or jar) is a warning and no mapping.
        assertTrue(exec("cat", "/proc/1/maps").contains("/opt/vfu/vfu-server.aot"), "the AOT cache is not mapped");
        String stderr = server.getLogs(OutputFrame.OutputType.STDERR);
        assertTrue(!stderr.contains("[aot]") && !stderr.contains("AOT"), stderr);
    }

    @Test
    void theHeapIsHalfTheContainersMemoryLimit() throws Exception {
        // No -Xmx in the image: the JVM sizes its heap from the cgroup limit (MaxRAMPercentage=50).
        double heap = scrape().sum("jvm_memory_max_bytes", Map.of("area", "heap"));
        assertTrue(heap > 0.40 * MEMORY_LIMIT && heap <= 0.50 * MEMORY_LIMIT,
                "max heap " + heap + " for a limit of " + MEMORY_LIMIT);
    }

    @Test
    void qemuInAnotherContainerAsUid2000InTheSocketsGroupReadsTheDeviceId() throws Exception {
        double opened = sessions("vfu_sessions_opened_total");
        ContainerQtestClient.Outcome o = ContainerQtestClient.attach(qemuImage, volume, SOCKET, "2000:10001",
                List.of());
        assertEquals(0, o.exit(), o.output());
        assertEquals("0x11b5a", o.idDword(), "device 0x0001, vendor 0x1b5a: " + o.output());
        assertEquals(opened + 1, sessions("vfu_sessions_opened_total"));
    }

    @Test
    void aUserOutsideTheSocketsGroupCannotConnect() throws Exception {
        double opened = sessions("vfu_sessions_opened_total");
        double refused = sessions("vfu_sessions_refused_total");
        ContainerQtestClient.Outcome o = ContainerQtestClient.attach(qemuImage, volume, SOCKET, "3000:3000", List.of());
        assertTrue(o.exit() != 0 && o.output().contains("Permission denied"), o.output());
        assertNull(o.idDword(), o.output());
        // Refused by the file system: the server never saw it.
        assertEquals(opened, sessions("vfu_sessions_opened_total"));
        assertEquals(refused, sessions("vfu_sessions_refused_total"));
    }

    @Test
    void aSupplementaryGroupLetsAClientConnectButOnlyTheEffectiveGidIsServed() throws Exception {
        double opened = sessions("vfu_sessions_opened_total");
        double refused = sessions("vfu_sessions_refused_total");
        ContainerQtestClient.Outcome o = ContainerQtestClient.attach(qemuImage, volume, SOCKET, "3000:3000",
                List.of(Integer.toString(ContainerImages.SERVER_GID)));
        assertTrue(o.exit() != 0, o.output());
        assertNull(o.idDword(), o.output());
        Await.until(Duration.ofSeconds(5), () -> sessions("vfu_sessions_refused_total") == refused + 1,
                () -> "one more refused session");
        assertEquals(opened, sessions("vfu_sessions_opened_total"));
        assertTrue(server.getLogs().contains("uid 3000 gid 3000 refused: uid_not_allowed"), server.getLogs());
    }
}
