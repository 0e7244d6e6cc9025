package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command and QEMU attach command, taken from the README text itself and run as written
 * (only the socket path and the metrics port are swapped for private ones, so parallel runs cannot collide).
 */
class ReadmeCommandsTest {
    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();
    private static final String README_SOCKET = "/tmp/vfu.sock";

    @TempDir
    Path dir;

    /** The indented command block of the README whose first line starts with {@code start}, joined. */
    private static String block(List<String> readme, String start) {
        for (int i = 0; i < readme.size(); i++) {
            if (readme.get(i).startsWith("    " + start)) {
                List<String> lines = new ArrayList<>();
                for (int j = i; j < readme.size() && readme.get(j).startsWith("    "); j++) {
                    lines.add(readme.get(j).substring(4));
                }
                return String.join("\n", lines);
            }
        }
        throw new AssertionError("README has no command starting with '" + start + "'");
    }

    @Test
    void theReadmeServerAndQemuCommandsWorkAsWritten() throws Exception {
        Provisioned.load(); // fails, naming the env file, when QEMU is not provisioned
        List<String> readme = Files.readAllLines(TOP.resolve("README.md"));
        String run = block(readme, "bin/vfu-server --socket");
        String attach = block(readme, "printf 'outl 0xcf8");
        assertTrue(run.contains(README_SOCKET) && attach.contains(README_SOCKET), "both use " + README_SOCKET);
        Path sock = dir.resolve("vfu.sock");
        run = run.replace(README_SOCKET, sock.toString()).replaceAll("--metrics-port \\d+", "--metrics-port 0");
        attach = attach.replace(README_SOCKET, sock.toString());

        Process server = new ProcessBuilder("bash", "-c", "exec " + run).directory(TOP.toFile())
                .redirectError(dir.resolve("server.stderr").toFile()).start();
        try {
            String ready = Clients.firstLine(server, Duration.ofSeconds(120));
            assertTrue(String.valueOf(ready).matches("vfu-server ready default=" + Pattern.quote(sock.toString())
                    + " metrics=http://127\\.0\\.0\\.1:\\d+/metrics"), "ready line: " + ready);

            Process qemu = new ProcessBuilder("bash", "-c", attach).directory(TOP.toFile())
                    .redirectErrorStream(true).start();
            assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "the README's QEMU command exits by itself");
            String output = new String(qemu.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, qemu.exitValue(), output);
            assertEquals("OK\nOK 0x11b5a\nOK\n", output, "what the README says it prints");

            server.destroy(); // SIGTERM, as the README says
            assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            assertFalse(Files.exists(sock), "the socket is removed on SIGTERM");
        } finally {
            server.destroyForcibly();
        }
    }
}
