package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.VfuServer;
import io.vfu.server.client.DmaHandler;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server of many devices: one accept thread serves every socket, and each socket reaches its own device. */
class ManyDevicesTest {

    @TempDir
    Path dir;

    @Test
    void oneAcceptThreadServesEveryDevice() throws Exception {
        int n = 50;
        List<DeviceSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(DeviceSpec.defaultDevice("dev" + i, dir.resolve("dev" + i + ".sock")));
        }
        try (VfuServer server = VfuServer.start(new ServerConfig(specs, List.of(), null), Optional.empty(),
                "127.0.0.1")) {
            assertEquals(1, Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("vfu-accept")).count(), "accept threads for " + n + " devices");
            List<TestDevice> clients = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    TestDevice d = TestDevice.open(dir.resolve("dev" + i + ".sock"), DmaHandler.refuseAll());
                    clients.add(d);
                    d.write(TestDevice.BAR0, 0x80, 4, 1000 + i);
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(1000 + i, clients.get(i).read(TestDevice.BAR0, 0x80, 4), "device " + i + " is its own");
                }
            } finally {
                clients.forEach(TestDevice::close);
            }
        }
    }
}
