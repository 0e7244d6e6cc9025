package io.vfu.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.device.memmove.DeviceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {

    @TempDir
    Path dir;

    private ServerConfig load(String json) throws Exception {
        Path f = dir.resolve("c.json");
        Files.writeString(f, json);
        return ServerConfig.load(f);
    }

    private String loadError(String json) {
        return assertThrows(IllegalArgumentException.class, () -> load(json)).getMessage();
    }

    @Test
    void devicesWithTheirOwnLayouts() throws Exception {
        ServerConfig c = load("""
                {"allowedUids": [1000], "metricsPort": 9464,
                 "devices": [{"name": "dev0", "socket": "/run/vfu/dev0.sock"},
                             {"name": "dev1", "socket": "/run/vfu/dev1.sock", "vendorId": "0x1b5a",
                              "deviceId": 2, "msixVectors": 64, "imsEntries": 256, "vectorBudget": 128}]}
                """);
        assertEquals(List.of(1000L), c.allowedUids());
        assertEquals(9464, c.metricsPort());
        assertEquals(DeviceConfig.defaults(), c.devices().get(0).toDeviceConfig());
        DeviceConfig d1 = c.devices().get(1).toDeviceConfig();
        assertEquals(0x1b5a, d1.vendorId());
        assertEquals(2, d1.deviceId());
        assertEquals(64, d1.msixTableSize());
        assertEquals(256, d1.imsEntryCount());
        assertEquals(128, d1.vectorBudget());
        assertEquals(DeviceConfig.minBar2Size(64), d1.bar2Size(), "BARs shrink to fit the counts");
    }

    @Test
    void mistakesAreRefusedAtLoadWithAReason() {
        assertTrue(loadError("{\"devices\": []}").contains("at least one device"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\"}]}").contains("socket"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a b\", \"socket\": \"/x\"}]}").contains("name"));
        assertTrue(loadError("""
                {"devices": [{"name": "a", "socket": "/x"}, {"name": "a", "socket": "/y"}]}""").contains("duplicate"));
        assertTrue(loadError("""
                {"devices": [{"name": "a", "socket": "/x"}, {"name": "b", "socket": "/x"}]}""").contains("duplicate"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"msixVectors\": 4096}]}")
                .contains("msixTableSize"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"vendorId\": \"0x10000\"}]}")
                .contains("vendorId"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"msix\": 4}]}")
                .contains("msix"), "unknown keys are refused, not ignored");
        assertThrows(IllegalArgumentException.class, () -> load("{\"devices\": ["));
    }

    @Test
    void singleDefaultDevice() {
        ServerConfig c = ServerConfig.single(Path.of("/tmp/x.sock"));
        assertEquals("default", c.devices().get(0).name());
        assertEquals(DeviceConfig.defaults(), c.devices().get(0).toDeviceConfig());
    }
}
