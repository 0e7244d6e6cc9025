package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.VfuServer;
import io.vfu.client.DmaHandler;
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
    void closingTheServerClosesClientsStillWaitingForAdmission() throws Exception {
        Path socket = dir.resolve("one.sock");
        VfuServer server = VfuServer.start(ServerConfig.single(socket), Optional.empty(), "127.0.0.1");
        TestDevice first = TestDevice.open(socket, DmaHandler.refuseAll());
        List<io.vfu.transport.UnixSocketTransport> waiting = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                // Each waits up to 500 ms for the first session to end before it would be refused.
                waiting.add(io.vfu.transport.UnixSocketTransport.connect(socket,
                        io.vfu.transport.TransportLimits.DEFAULT));
            }
            Thread.sleep(50);
            server.close();
            for (var t : waiting) {
                // Rule: no client is left hanging: each sees end of stream soon after the close.
                var f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return t.receive();
                    } catch (Exception e) {
                        return null;
                    }
                });
                assertEquals(null, f.get(3, java.util.concurrent.TimeUnit.SECONDS), "end of stream, no message");
            }
        } finally {
            waiting.forEach(io.vfu.transport.UnixSocketTransport::close);
            first.close();
            server.close();
        }
    }

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
