package io.vfu.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.memmove.MemmoveImsFactory;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
        assertEquals(DeviceConfig.defaults(), MemmoveImsFactory.config(c.devices().get(0).settings()));
        DeviceConfig d1 = MemmoveImsFactory.config(c.devices().get(1).settings());
        assertEquals(0x1b5a, d1.vendorId());
        assertEquals(2, d1.deviceId());
        assertEquals(64, d1.msixTableSize());
        assertEquals(256, d1.imsEntryCount());
        assertEquals(128, d1.vectorBudget());
        assertEquals(DeviceConfig.minBar2Size(64, 256), d1.bar2Size(), "BARs shrink to fit the counts");
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
                .contains("msixVectors"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"vendorId\": \"0x10000\"}]}")
                .contains("vendorId"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"msix\": 4}]}")
                .contains("msix"), "unknown keys are refused, not ignored");
        assertThrows(IllegalArgumentException.class, () -> load("{\"devices\": ["));
    }

    @Test
    void socketModeAndGroupDefaultAtTheTopAndADeviceMayOverride() throws Exception {
        ServerConfig c = load("""
                {"allowedUids": [1000], "allowedGids": [107, 0], "socketMode": "0660", "socketGroup": "kvm",
                 "devices": [{"name": "dev0", "socket": "/run/vfu/dev0.sock"},
                             {"name": "dev1", "socket": "/run/vfu/dev1.sock", "socketMode": "0600"},
                             {"name": "dev2", "socket": "/run/vfu/dev2.sock", "socketMode": "666",
                              "socketGroup": 107}]}
                """);
        assertEquals(List.of(107L, 0L), c.allowedGids());
        assertEquals(new SocketAccess(SocketMode.parse("0660"), Optional.of(new SocketGroup("kvm"))),
                c.socketAccess(c.devices().get(0)));
        assertEquals(new SocketAccess(SocketMode.PRIVATE, Optional.of(new SocketGroup("kvm"))),
                c.socketAccess(c.devices().get(1)), "a device's mode overrides, the group is inherited");
        assertEquals(new SocketAccess(new SocketMode(0666), Optional.of(SocketGroup.ofGid(107))),
                c.socketAccess(c.devices().get(2)));
        assertEquals(new PeerPolicy(Set.of(1000L), Set.of(107L, 0L)), c.peerPolicy());
    }

    @Test
    void withoutSocketKeysEverySocketIsPrivateAndOnlyTheServersUserIsServed() throws Exception {
        ServerConfig c = load("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\"}]}");
        assertEquals(SocketAccess.PRIVATE, c.socketAccess(c.devices().get(0)));
        assertEquals(PeerPolicy.SAME_USER, c.peerPolicy());
        assertEquals(SocketAccess.PRIVATE, ServerConfig.single(Path.of("/x")).socketAccess(
                DeviceSpec.defaultDevice("default", Path.of("/x"))));
    }

    @Test
    void socketAccessMistakesAreRefusedAtLoadWithAReason() {
        String dev = "\"devices\": [{\"name\": \"a\", \"socket\": \"/x\"}]";
        assertTrue(loadError("{\"socketMode\": 660, " + dev + "}").contains("string of octal digits"),
                "a JSON number is not octal");
        assertTrue(loadError("{\"socketMode\": \"0755\", " + dev + "}").contains("execute"));
        assertTrue(loadError("{\"socketMode\": \"4660\", " + dev + "}").contains("setuid"));
        assertTrue(loadError("{\"socketMode\": \"0640\", " + dev + "}").contains("rw- or nothing"));
        assertTrue(loadError("{\"socketMode\": \"0060\", " + dev + "}").contains("owner"));
        assertTrue(loadError("{\"socketMode\": \"rw-rw----\", " + dev + "}").contains("octal"));
        assertTrue(loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"socketMode\": \"0777\"}]}")
                .contains("execute"), "a device's own mode is checked too");
        assertTrue(loadError("{\"socketGroup\": \"no such;group\", " + dev + "}").contains("group name"));
        assertTrue(loadError("{\"socketGroup\": 4294967295, " + dev + "}").contains("out of range"));
        assertTrue(loadError("{\"socketGroup\": true, " + dev + "}").contains("group name or a gid"));
        assertTrue(loadError("{\"allowedGids\": [-1], " + dev + "}").contains("allowedGids"));
        assertTrue(loadError("{\"allowedUids\": [4294967295], " + dev + "}").contains("allowedUids"));
    }

    @Test
    void singleDefaultDevice() {
        ServerConfig c = ServerConfig.single(Path.of("/tmp/x.sock"));
        assertEquals("default", c.devices().get(0).name());
        assertEquals(DeviceConfig.defaults(), MemmoveImsFactory.config(c.devices().get(0).settings()));
    }

    @Test
    void aDeviceTypeIsFoundOnTheClassPathAndItsSettingsAreItsOwn() throws Exception {
        ServerConfig c = load("""
                {"devices": [{"name": "a", "socket": "/x"},
                             {"name": "b", "socket": "/y", "type": "memmove-ims", "msixVectors": 16}]}""");
        assertEquals("memmove-ims", c.devices().get(0).type(), "no type: the default device");
        assertEquals(16, MemmoveImsFactory.config(c.devices().get(1).settings()).msixTableSize());
        assertEquals(0, c.devices().get(1).settings().path("name").size(), "server keys are not settings");
        String unknown = loadError("{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\", \"type\": \"nvme\"}]}");
        assertTrue(unknown.contains("unknown device type \"nvme\"") && unknown.contains("memmove-ims"),
                "an unknown type lists the known ones: " + unknown);
    }

    @Test
    void wrongSettingTypesAndRangesNameTheDeviceAndTheKey() {
        String dev = "{\"devices\": [{\"name\": \"d7\", \"socket\": \"/x\", ";
        for (String bad : new String[] {"\"msixVectors\": 64.7", "\"msixVectors\": \"64\"", "\"vectorBudget\": -1",
                "\"imsEntries\": true", "\"deviceId\": \"0xZZ\""}) {
            String e = loadError(dev + bad + "}]}");
            String key = bad.substring(1, bad.indexOf('"', 1));
            assertTrue(e.contains("device d7") && e.contains("\"" + key + "\""), bad + " -> " + e);
        }
        String typo = loadError(dev + "\"msixVector\": 64}]}");
        assertTrue(typo.contains("unknown key \"msixVector\"") && typo.contains("msixVectors"),
                "a typo lists the valid keys: " + typo);
    }

    /** The mistake at {@code key} of the third line of a config, as {@link ServerConfig#parse} reports it. */
    private static ConfigException located(String thirdLine) {
        String json = "{\"devices\": [{\"name\": \"dev0\", \"socket\": \"/run/vfu/dev0.sock\"},\n"
                + "             {\"name\": \"dev1\", \"socket\": \"/run/vfu/dev1.sock\",\n"
                + "              " + thirdLine + "}]}\n";
        return assertThrows(ConfigException.class, () -> ServerConfig.parse("vfu.json", json));
    }

    @Test
    void everyMistakeGivesLineColumnJsonPathAndTheDeviceNeverAJavaClass() {
        String[][] cases = {
                // third line, JSON path, what the message says
                {"\"msixVector\": 64", "devices[1].msixVector", "device dev1: unknown key \"msixVector\""},
                {"\"msixVectors\": 64.7", "devices[1].msixVectors", "device dev1: memmove-ims setting "
                        + "\"msixVectors\" must be an integer, not 64.7"},
                {"\"msixVectors\": \"64\"", "devices[1].msixVectors", "device dev1: memmove-ims setting "
                        + "\"msixVectors\" must be an integer, not \"64\""},
                {"\"vectorBudget\": -1", "devices[1].vectorBudget", "device dev1: memmove-ims setting "
                        + "\"vectorBudget\" must be in [0, 2147483647], not -1"},
                {"\"socketMode\": 660", "devices[1].socketMode", "device dev1: socketMode must be a string"},
                {"\"type\": \"nvme\"", "devices[1].type", "device dev1: unknown device type \"nvme\""},
                {"\"socketGroup\": true", "devices[1].socketGroup", "device dev1: socketGroup must be a group name or a "
                        + "gid, not true"},
        };
        for (String[] c : cases) {
            ConfigException e = located(c[0]);
            String key = c[1].substring(c[1].lastIndexOf('.') + 1);
            int column = "              ".length() + 1;
            assertEquals(c[1], e.path(), c[0]);
            assertEquals(Optional.of(3), e.line(), c[0]);
            assertEquals(Optional.of(column), e.column(), c[0] + " -> " + e.getMessage());
            assertTrue(e.getMessage().startsWith("vfu.json:3:" + column + ": " + c[1] + ": " + c[2]), e.getMessage());
            assertTrue(!e.getMessage().contains("io.vfu") && !e.getMessage().contains("class "), e.getMessage());
            assertTrue(e.problem().contains(key), e.problem());
        }
        ConfigException typo = located("\"msixVector\": 64");
        assertTrue(typo.validKeys().contains("msixVectors") && typo.getMessage().contains("valid keys: bar0Size"),
                typo.getMessage());
    }

    @Test
    void topLevelMistakesAreLocatedToo() {
        String dev = "\"devices\": [{\"name\": \"a\", \"socket\": \"/x\"}]";
        ConfigException uid = assertThrows(ConfigException.class,
                () -> ServerConfig.parse("c.json", "{" + dev + ",\n \"allowedUids\": [1000, -1]}"));
        assertEquals("allowedUids[1]", uid.path());
        assertEquals("c.json:2:24: allowedUids[1]: must be in [0, 4294967294], not -1", uid.getMessage());
        ConfigException key = assertThrows(ConfigException.class,
                () -> ServerConfig.parse("c.json", "{" + dev + ",\n  \"metricsPorts\": 1}"));
        assertEquals("c.json:2:3: metricsPorts: unknown key \"metricsPorts\"; valid keys: allowedGids, allowedUids, "
                + "devices, limits, metricsPort, socketGroup, socketMode", key.getMessage());
        assertEquals("limits.dmaMappedFilesPerSession", assertThrows(ConfigException.class,
                () -> ServerConfig.parse("c.json", "{" + dev + ", \"limits\": {\"dmaMappedFilesPerSession\": -5}}"))
                .path(), "a negative count is refused");
        assertEquals("metricsPort", assertThrows(ConfigException.class,
                () -> ServerConfig.parse("c.json", "{" + dev + ", \"metricsPort\": 9464.5}")).path());
        ConfigException json = assertThrows(ConfigException.class,
                () -> ServerConfig.parse("c.json", "{" + dev + ",\n\"devices\": []}"));
        assertEquals(Optional.of(2), json.line(), "a duplicate key is malformed JSON: " + json.getMessage());
        ConfigException dup = assertThrows(ConfigException.class, () -> ServerConfig.parse("c.json",
                "{\"devices\": [{\"name\": \"a\", \"socket\": \"/x\"},\n {\"name\": \"a\", \"socket\": \"/y\"}]}"));
        assertEquals("c.json:2:3: devices[1].name: duplicate device name a (also devices[0])", dup.getMessage());
    }

    @Test
    void limitsMayBeSetAndAreCheckedAtLoad() throws Exception {
        ServerConfig c = load("""
                {"limits": {"handshakeTimeoutMs": 1500, "dmaMappedFilesPerSession": 64},
                 "devices": [{"name": "a", "socket": "/x"}]}""");
        assertEquals(java.time.Duration.ofMillis(1500), c.serverLimits().handshake());
        assertEquals(64, c.serverLimits().mappedFilesPerSession());
        assertEquals(io.vfu.server.ServerLimits.DEFAULT.send(), c.serverLimits().send(), "unset keys keep defaults");
        String dev = ", \"devices\": [{\"name\": \"a\", \"socket\": \"/x\"}]}";
        assertTrue(loadError("{\"limits\": {\"sendTimeoutMs\": 0}" + dev).contains("limits.sendTimeoutMs: must be in [1, "));
        assertTrue(loadError("{\"limits\": {\"sendTimeout\": 5}" + dev).contains("sendTimeout"),
                "an unknown key is refused");
    }

    @Test
    void pollingWindowsAreAtMostAMillisecondAndZeroTurnsPollingOff() throws Exception {
        String dev = ", \"devices\": [{\"name\": \"a\", \"socket\": \"/x\"}]}";
        assertEquals(java.time.Duration.ofNanos(50_000), load("{\"limits\": {}" + dev).serverLimits().polling().max(),
                "50 us by default");
        ServerConfig on = load("{\"limits\": {\"pollMaxMicros\": 200}" + dev);
        assertEquals(java.time.Duration.ofNanos(200_000), on.serverLimits().polling().max());
        assertFalse(load("{\"limits\": {\"pollMaxMicros\": 0}" + dev).serverLimits().polling().enabled());
        assertTrue(loadError("{\"limits\": {\"pollMaxMicros\": 1001}" + dev).contains("limits.pollMaxMicros"));
        assertTrue(loadError("{\"limits\": {\"pollMaxMicros\": -1}" + dev).contains("limits.pollMaxMicros"));
    }
}
