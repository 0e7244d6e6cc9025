package io.vfu.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
    void rejectsMissingValueUnknownOptionAndBadPort() {
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "--help"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--bogus"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--metrics-port", "70000"));
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse("--socket", "/a", "--metrics-port", "x"));
    }
}
