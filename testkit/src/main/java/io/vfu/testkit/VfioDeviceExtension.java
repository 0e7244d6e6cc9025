package io.vfu.testkit;

import io.vfu.device.DeviceContext;
import io.vfu.device.VfioDevice;
import io.vfu.server.VfuServer;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that serves one device in-process on a real Unix socket for each test, with a negotiated
 * {@link DeviceClient}; everything is closed after the test.
 *
 * <pre>{@code
 * @RegisterExtension
 * final VfioDeviceExtension gpio = VfioDeviceExtension.ofType("gpio", "{}");
 *
 * @Test
 * void idReadsGpio() throws Exception {
 *     assertEquals(0x4F495047, gpio.client().read(0, 0, 4));
 * }
 * }</pre>
 */
public final class VfioDeviceExtension implements BeforeEachCallback, AfterEachCallback {

    private final Function<Path, VfuServer> start;
    private Path dir;
    private VfuServer server;
    private DeviceClient client;

    private VfioDeviceExtension(Function<Path, VfuServer> start) {
        this.start = start;
    }

    /** Serves the device {@code create} makes (with the server's context) for each test. */
    public static VfioDeviceExtension of(Function<DeviceContext, VfioDevice> create) {
        return new VfioDeviceExtension(socket -> {
            try {
                return VfuServer.builder().device("dut", socket, create).start();
            } catch (java.io.IOException e) {
                throw DeviceClient.unchecked(e);
            }
        });
    }

    /**
     * Serves a device of {@code type}, found on the class path as the server finds it, with {@code settings}
     * (a JSON object) for each test.
     */
    public static VfioDeviceExtension ofType(String type, String settings) {
        com.fasterxml.jackson.databind.node.ObjectNode node;
        try {
            node = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(settings);
        } catch (java.io.IOException | ClassCastException e) {
            throw new IllegalArgumentException("settings must be a JSON object: " + settings, e);
        }
        return new VfioDeviceExtension(socket -> {
            try {
                return VfuServer.builder().config(new ServerConfig(
                        java.util.List.of(DeviceSpec.of("dut", socket, type, node)), java.util.List.of(), null))
                        .start();
            } catch (java.io.IOException e) {
                throw DeviceClient.unchecked(e);
            }
        });
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("vfu-testkit");
        server = start.apply(socket());
        client = DeviceClient.connect(socket());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            if (server != null) {
                server.close();
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The device's socket in this test. */
    public Path socket() {
        return dir.resolve("dut.sock");
    }

    /** The server of this test (its registry holds the device's metrics). */
    public VfuServer server() {
        return server;
    }

    /** The negotiated client of this test. */
    public DeviceClient client() {
        return client;
    }
}
