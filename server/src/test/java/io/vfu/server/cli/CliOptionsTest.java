package io.vfu.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.server.config.ServerConfig;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CliOptionsTest {

    @Test
    void socketAndMetricsPort() {
        CliOptions o = CliOptions.parse("--socket", "/tmp/a.sock", "--metrics-port", "9464");
        assertEquals(Path.of("/tmp/a.sock"), o.socket().orElseThrow());
        assertEquals(9464, o.metricsPort().orElseThrow());
        assertEquals("127.0.0.1", o.metricsHost());
    }

    @Test
    void specConventionSocketPathAlias() {
        assertEquals(Path.of("/x.sock"), CliOptions.parse("--socket-path=/x.sock").socket().orElseThrow());
    }

    @Test
    void configFile() {
        assertEquals(Path.of("devs.json"), CliOptions.parse("--config", "devs.json").config().orElseThrow());
    }

    @Test
    void helpNeedsNothingElse() {
        assertTrue(CliOptions.parse("--help").help());
    }

    @Test
    void rejectsMissingSource() {
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--metrics-port", "1"));
    }

    @Test
    void rejectsBothSources() {
        assertThrows(IllegalArgumentException.class,
                () -> CliOptions.parse("--socket", "/a", "--config", "/b"));
    }

    @Test
    void socketAccessOptionsBuildTheSingleDeviceConfig() {
        CliOptions o = CliOptions.parse("--socket", "/run/vfu/a.sock", "--socket-mode", "0660",
                "--socket-group=kvm", "--allow-uid", "107,1000", "--allow-uid=5", "--allow-gid", "107");
        assertEquals(new SocketMode(0660), o.socketMode().orElseThrow());
        assertEquals(new SocketGroup("kvm"), o.socketGroup().orElseThrow());
        assertEquals(List.of(107L, 1000L, 5L), o.allowUids(), "comma lists and repeats add up");
        assertEquals(List.of(107L), o.allowGids());
        ServerConfig c = o.singleDeviceConfig();
        assertEquals(new SocketAccess(new SocketMode(0660), Optional.of(new SocketGroup("kvm"))),
                c.socketAccess(c.devices().get(0)));
        assertEquals(new PeerPolicy(Set.of(107L, 1000L, 5L), Set.of(107L)), c.peerPolicy());
        ServerConfig plain = CliOptions.parse("--socket", "/a").singleDeviceConfig();
        assertEquals(SocketAccess.PRIVATE, plain.socketAccess(plain.devices().get(0)));
        assertEquals(PeerPolicy.SAME_USER, plain.peerPolicy());
    }

    @Test
    void socketAccessOptionsAreRefusedWithAConfigFileOrBadValues() {
        String e = assertThrows(IllegalArgumentException.class,
                () -> CliOptions.parse("--config", "/c.json", "--allow-gid", "107")).getMessage();
        assertTrue(e.contains("allowedGids"), e);
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--config", "/c", "--socket-mode", "0660"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--socket-mode", "0755"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--socket-mode", "u+rw"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--socket-group", "a b"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--allow-uid", "-1"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--allow-uid", "1,,2"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--allow-gid", "qemu"));
        assertThrows(IllegalArgumentException.class,
                () -> CliOptions.parse("--socket", "/a", "--allow-gid", "4294967295"));
        assertTrue(CliOptions.USAGE.contains("--socket-mode") && CliOptions.USAGE.contains("--allow-gid"));
    }

    @Test
    void rejectsMissingValueUnknownOptionAndBadPort() {
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "--help"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--bogus"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--metrics-port", "70000"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--metrics-port", "x"));
    }
}
