package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped systemd unit ({@code dist/systemd/vfu-server.service}) is one systemd accepts without a warning
 * ({@code systemd-analyze verify}), and says what the server's signals and exit statuses need: SIGHUP for
 * reload, 143 as success, the socket directory for the QEMU side.
 */
class SystemdUnitTest {

    static final Path UNIT = Path.of("..", "dist", "systemd", "vfu-server.service").toAbsolutePath().normalize();

    @Test
    void systemdAcceptsTheUnitWithoutAWarning() throws Exception {
        Process p = new ProcessBuilder("systemd-analyze", "verify", UNIT.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("", out.strip(), "systemd-analyze verify prints nothing for a clean unit");
    }

    @Test
    void theUnitMatchesTheServersSignalsAndExitStatuses() throws Exception {
        String unit = Files.readString(UNIT);
        assertTrue(unit.contains("\nSuccessExitStatus=143\n"), "SIGTERM's 143 is a clean stop");
        assertTrue(unit.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"), "reload is SIGHUP");
        assertTrue(unit.contains("\nRuntimeDirectory=vfu\n"), "the socket directory");
        assertTrue(unit.contains("\nRestartPreventExitStatus=2\n"), "a usage error is not retried");
        assertTrue(unit.contains("--config /etc/vfu/vfu.json"), "devices from a config file, so SIGHUP has one");
    }
}
