package io.vfu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vfu-server} as an operator runs it, in a JVM of its own: exit codes, the one line that says why it could
 * not start, environment defaults, and {@code --version}.
 */
class MainProcessTest {

    @TempDir
    Path dir;

    /** A finished run: exit code, stdout and stderr. */
    record Result(int code, String out, String err) {
    }

    private ProcessBuilder command(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("VFU_"));
        pb.environment().putAll(env);
        return pb;
    }

    private Result run(Map<String, String> env, String... args) throws Exception {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process p = command(env, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vfu-server exits by itself");
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void aSocketThatCannotBeBoundExitsOneNamingDevicePathAndErrno() throws Exception {
        Path sock = dir.resolve("no-such-dir/dev.sock");
        Result r = run(Map.of(), "--socket", sock.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("vfu-server: device default: cannot bind " + sock + ": ENOENT (No such file or directory)",
                r.err().strip());
        assertEquals("", r.out(), "nothing on stdout, where the ready line would be");
    }

    @Test
    void aMetricsPortInUseExitsOneNamingTheAddressAndErrno() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Result r = run(Map.of(), "--socket", dir.resolve("a.sock").toString(), "--metrics-port",
                    String.valueOf(port));
            assertEquals(1, r.code(), r.err());
            assertEquals("vfu-server: metrics: cannot bind 127.0.0.1:" + port
                    + ": EADDRINUSE (Address already in use)", r.err().strip());
            assertTrue(Files.notExists(dir.resolve("a.sock")), "the device's socket is removed again");
        }
    }

    @Test
    void aBadConfigExitsOneWithTheReason() throws Exception {
        Path config = Files.writeString(dir.resolve("c.json"), "{\"devices\": []}");
        Result r = run(Map.of(), "--config", config.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("vfu-server: " + config + ":") && r.err().contains("at least one device"),
                r.err());
        Result missing = run(Map.of(), "--config", dir.resolve("none.json").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains(dir.resolve("none.json") + ": ENOENT (No such file or directory)"),
                missing.err());
    }

    @Test
    void aUsageErrorExitsTwoWithASuggestion() throws Exception {
        Result r = run(Map.of(), "--sockt", "/x.sock");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("vfu-server: Unknown option") && r.err().contains("--socket"), r.err());
    }

    @Test
    void versionPrintsTheBuildsVersionAndCommit() throws Exception {
        Result r = run(Map.of(), "--version");
        assertEquals(0, r.code(), r.err());
        assertEquals(BuildInfo.current().line(), r.out().strip());
        assertTrue(r.out().startsWith("vfu-server 0.") && !r.out().contains("${"), r.out());
    }

    @Test
    void theSocketMayComeFromTheEnvironmentAndTheReadyLineIsUnchanged() throws Exception {
        Path sock = dir.resolve("env.sock");
        Process p = command(Map.of("VFU_SOCKET", sock.toString(), "VFU_METRICS_PORT", "0"))
                .redirectError(dir.resolve("err").toFile()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            String ready = out.readLine();
            assertTrue(String.valueOf(ready).matches("vfu-server ready default=" + java.util.regex.Pattern.quote(
                    sock.toString()) + " metrics=http://127\\.0\\.0\\.1:\\d+/metrics"),
                    ready + "\n" + Files.readString(dir.resolve("err")));
            assertTrue(Files.exists(sock));
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(143, p.exitValue(), "SIGTERM");
            assertTrue(Files.notExists(sock), "the socket is removed on SIGTERM");
        } finally {
            p.destroyForcibly();
        }
        Result both = run(Map.of("VFU_SOCKET", sock.toString(), "VFU_CONFIG", "/c.json"));
        assertEquals(2, both.code());
        assertTrue(both.err().contains("VFU_SOCKET and VFU_CONFIG are both set"), both.err());
    }
}
