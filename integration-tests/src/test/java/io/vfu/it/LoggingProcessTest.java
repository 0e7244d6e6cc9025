package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.protocol.Command;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator reads on the server's stderr, from the server jar run as its own process: with
 * {@code --log-format json} every line is one JSON object, and a client connecting, a second client refused busy
 * and the first one's disconnect each carry the device, the client's pid and uid and an event name;
 * {@code --log-level warn} keeps those INFO lines out; {@code --trace} logs each command with its msg_id and
 * result; a user's own Logback file wins over the options; and a SIGQUIT thread dump goes to stderr, never to
 * stdout, whose only line stays the ready line.
 */
class LoggingProcessTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    /** The server jar on {@code --socket dir/s.sock} with {@code args}; stdout and stderr go to files. */
    private Process start(List<String> jvmArgs, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-XX:+UseSerialGC"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-jar", ServerProcessTest.serverJar().toString(), "--socket", sock().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("VFU_"));
        Process p = pb.start();
        awaitText("out", "vfu-server ready", p);
        return p;
    }

    private Path sock() {
        return dir.resolve("s.sock");
    }

    /** Waits until file {@code name} contains {@code text}; fails with the server's output if it never does. */
    private void awaitText(String name, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.readString(dir.resolve(name)).contains(text)) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, "no '" + text + "' in " + name + "; stdout:\n"
                    + Files.readString(dir.resolve("out")) + "\nstderr:\n" + Files.readString(dir.resolve("err")));
            Thread.sleep(20);
        }
    }

    /** Stops the server with SIGTERM and returns its stderr. */
    private String stop(Process p) throws Exception {
        p.destroy();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue(), "SIGTERM");
        return Files.readString(dir.resolve("err"));
    }

    /**
     * The operator's scenario: client A attaches and sends a command, client B is refused EBUSY while A is
     * attached, A disconnects. Returns once the server has logged A's disconnect.
     */
    private void attachRefuseDetach(Process server, String disconnectMarker) throws Exception {
        try (VfioUserClient a = Clients.negotiated(sock())) {
            try (Frame f = a.call(Command.DEVICE_GET_INFO, deviceGetInfo())) {
                assertEquals(0, f.header().error());
            }
            try (VfioUserClient b = VfioUserClient.connect(sock(), DmaHandler.refuseAll())) {
                ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> b.version(0, 0, "{}").get(10, TimeUnit.SECONDS).close());
                assertTrue(refused.getCause() instanceof ErrorReplyException e && e.errno() == 16,
                        "EBUSY: " + refused.getCause());
            }
        }
        awaitText("err", disconnectMarker, server);
    }

    /** DEVICE_GET_INFO payload (spec "VFIO_USER_DEVICE_GET_INFO"): argsz, flags, num_regions, num_irqs. */
    private static ByteBuffer deviceGetInfo() {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(16).putInt(0).putInt(0).putInt(0)
                .flip();
    }

    /** DEVICE_GET_REGION_INFO for a region index the device does not have (answered EINVAL). */
    private static ByteBuffer regionInfoOfNoRegion() {
        return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putInt(32).putInt(0).putInt(99).putInt(0)
                .putLong(0).putLong(0).flip();
    }

    /** Every stderr line as JSON; a line that is not one JSON object fails the test. */
    private static List<JsonNode> jsonLines(String stderr) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : stderr.lines().toList()) {
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (Exception e) {
                throw new AssertionError("not a JSON line: " + line, e);
            }
            assertTrue(n.isObject(), line);
            for (String field : List.of("time", "level", "logger", "message")) {
                assertTrue(n.hasNonNull(field), "no " + field + ": " + line);
            }
            lines.add(n);
        }
        return lines;
    }

    private static JsonNode only(List<JsonNode> lines, String event, Predicate<JsonNode> also) {
        List<JsonNode> found = lines.stream().filter(n -> event.equals(n.path("event").asText()))
                .filter(also).toList();
        assertEquals(1, found.size(), event + " lines: " + found + " of " + lines);
        return found.getFirst();
    }

    @Test
    void jsonLinesCarryTheDeviceTheClientAndTheEvent() throws Exception {
        Process server = start(List.of(), "--log-format", "json");
        try {
            attachRefuseDetach(server, "client_disconnected");
        } finally {
            String err = stop(server);
            assertEquals(List.of(readyLine()), Files.readString(dir.resolve("out")).lines().toList(),
                    "stdout: the ready line alone");
            List<JsonNode> lines = jsonLines(err);
            long pid = ProcessHandle.current().pid();
            long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            JsonNode connected = only(lines, "client_connected", n -> true);
            assertEquals("INFO", connected.get("level").asText());
            assertEquals("default", connected.get("device").asText());
            assertEquals(pid, connected.get("client_pid").asLong());
            assertTrue(connected.get("client_pid").isNumber(), "numbers stay numbers");
            assertEquals(uid, connected.get("client_uid").asLong());
            assertTrue(connected.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                    connected.toString());
            JsonNode refused = only(lines, "client_refused", n -> true);
            assertEquals("busy", refused.get("reason").asText());
            assertEquals("EBUSY", refused.get("errno").asText());
            assertEquals(pid, refused.get("client_pid").asLong());
            JsonNode gone = only(lines, "client_disconnected", n -> true);
            assertEquals("eof", gone.get("reason").asText());
            assertEquals(2, gone.get("commands").asLong(), "VERSION and DEVICE_GET_INFO");
            assertTrue(gone.get("duration_ms").asLong() >= 0, gone.toString());
            assertFalse(lines.stream().anyMatch(n -> n.path("level").asText().equals("TRACE")), "no trace unasked");
        }
    }

    @Test
    void warnKeepsTheInfoLinesOutAndTextIsTheDefault() throws Exception {
        Process quiet = start(List.of(), "--log-level", "warn");
        try {
            attachRefuseDetach(quiet, "");
            Thread.sleep(300); // the disconnect line, were it logged, is written as the session ends
        } finally {
            assertEquals("", stop(quiet), "nothing at WARN or above happened");
        }
        Process text = start(List.of());
        try {
            attachRefuseDetach(text, " disconnected after ");
        } finally {
            String err = stop(text);
            long pid = ProcessHandle.current().pid();
            assertTrue(err.lines().anyMatch(l -> l.matches(".* INFO  ClientEvents - default: client pid " + pid
                    + " uid \\d+ gid \\d+ refused: busy \\(another client is attached; answered EBUSY\\)")), err);
            assertTrue(err.lines().anyMatch(l -> l.matches(".* INFO  ClientEvents - default: client pid " + pid
                    + " uid \\d+ gid \\d+ disconnected after \\d+\\.\\d s, 2 commands: eof")), err);
        }
    }

    @Test
    void traceLogsEachCommandWithItsMsgIdAndResult() throws Exception {
        Process server = start(List.of(), "--trace", "--log-format", "json", "--log-level", "warn");
        int okId;
        int failedId;
        try (VfioUserClient a = Clients.negotiated(sock())) {
            try (Frame f = a.call(Command.DEVICE_GET_INFO, deviceGetInfo())) {
                okId = f.header().msgId();
            }
            ErrorReplyException e = org.junit.jupiter.api.Assertions.assertThrows(ErrorReplyException.class,
                    () -> a.call(Command.DEVICE_GET_REGION_INFO, regionInfoOfNoRegion()).close());
            failedId = e.header().msgId();
        } finally {
            awaitText("err", "DEVICE_GET_REGION_INFO", server);
        }
        List<JsonNode> lines = jsonLines(stop(server));
        JsonNode ok = only(lines, "client_command", n -> n.path("command").asText().equals("DEVICE_GET_INFO"));
        assertEquals("TRACE", ok.get("level").asText());
        assertEquals(okId, ok.get("msg_id").asInt());
        assertEquals("ok", ok.get("result").asText());
        assertEquals("default", ok.get("device").asText());
        JsonNode failed = only(lines, "client_command",
                n -> n.path("command").asText().equals("DEVICE_GET_REGION_INFO"));
        assertEquals(failedId, failed.get("msg_id").asInt());
        assertEquals("EINVAL", failed.get("result").asText());
        assertEquals("EINVAL", failed.get("errno").asText());
        only(lines, "client_command", n -> n.path("command").asText().equals("VERSION"));
        assertTrue(lines.stream().noneMatch(n -> n.path("level").asText().equals("INFO")),
                "--trace traces commands without lowering the level of everything else");
    }

    @Test
    void aClientThatNeverCompletesVersionIsLoggedAsAHandshakeTimeout() throws Exception {
        Path config = Files.writeString(dir.resolve("c.json"), "{\"devices\": [{\"name\": \"dev0\", \"socket\": \""
                + sock() + "\"}], \"limits\": {\"handshakeTimeoutMs\": 300}}");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "-XX:+UseSerialGC", "-jar",
                ServerProcessTest.serverJar().toString(), "--config", config.toString(), "--log-format", "json");
        Process server = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
        awaitText("out", "vfu-server ready", server);
        try (java.nio.channels.SocketChannel silent = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(sock()))) {
            assertTrue(silent.isConnected());
            awaitText("err", "client_disconnected", server);
        }
        List<JsonNode> lines = jsonLines(stop(server));
        JsonNode timeout = only(lines, "handshake_timeout", n -> true);
        assertEquals("dev0", timeout.get("device").asText());
        assertEquals(ProcessHandle.current().pid(), timeout.get("client_pid").asLong());
        JsonNode gone = only(lines, "client_disconnected", n -> true);
        assertEquals("handshake_timeout", gone.get("reason").asText());
        assertEquals(0, gone.get("commands").asLong());
    }

    @Test
    void aLogbackFileOfTheUsersOwnWinsOverTheOptions() throws Exception {
        Path config = Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <appender name="err" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>MINE %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="err"/></root>
                </configuration>
                """);
        Process server = start(List.of("-Dlogback.configurationFile=" + config), "--log-format", "json");
        try (VfioUserClient a = Clients.negotiated(sock())) {
            assertTrue(a.connection().isOpen());
        }
        awaitText("err", "disconnected", server);
        String err = stop(server);
        assertTrue(err.lines().anyMatch(l -> l.startsWith("MINE INFO default: client pid ")), err);
    }

    @Test
    void aSigquitThreadDumpGoesToStderrAndStdoutKeepsOnlyTheReadyLine() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", TOP.resolve("bin/vfu-server").toString(), "--socket",
                sock().toString()).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("VFU_"));
        pb.environment().put("VFU_AOT", "off"); // no background training run beside the one we signal
        Process server = pb.start();
        try {
            awaitText("out", "vfu-server ready", server);
            // bin/vfu-server execs java: the process we started is the JVM.
            Process kill = new ProcessBuilder("kill", "-QUIT", String.valueOf(server.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor());
            awaitText("err", "Full thread dump", server);
            assertTrue(Files.readString(dir.resolve("err")).contains("\"main\""), "the dump lists the threads");
            assertTrue(server.isAlive(), "SIGQUIT dumps threads and the server goes on");
        } finally {
            stop(server);
        }
        assertEquals(List.of(readyLine()), Files.readString(dir.resolve("out")).lines().toList(),
                "stdout: the ready line alone");
    }

    private String readyLine() {
        return "vfu-server ready default=" + sock();
    }
}
