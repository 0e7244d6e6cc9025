package io.vfu.devices.gpio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vfu.server.VfuServer;
import io.vfu.testkit.DeviceClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The guide's embedding example, run: a program serves its own GPIO instance without the CLI. */
class EmbeddingExampleTest {

    @Test
    void aProgramServesItsOwnGpio() throws Exception {
        Path socket = Files.createTempDirectory("gpio").resolve("gpio0.sock");
        try (VfuServer server = VfuServer.builder()
                .device("gpio0", socket, context -> new GpioFactory().create(
                        JsonNodeFactory.instance.objectNode().put("deviceId", 0x0010), context))
                .metricsPort(0)
                .start();
             DeviceClient client = DeviceClient.connect(socket)) {
            assertEquals(0x4F495047L, client.read(0, GpioDevice.ID, 4));
        }
    }
}
