package io.vfu.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.server.BuildInfo;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command line as a user meets it: what each option means, and what a mistake prints and exits with. */
class ServerCommandTest {

    /** One run of the command line: its exit code, what it printed, and the options the runner got. */
    record Run(int code, String out, String err, CliOptions options) {
    }

    static Run run(String... args) {
        return run(o -> 0, args);
    }

    static Run run(ServerCommand.Runner then, String... args) {
        CliOptions[] seen = new CliOptions[1];
        var cl = ServerCommand.commandLine(o -> {
            seen[0] = o;
            return then.run(o);
        });
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString(), seen[0]);
    }

    private static CliOptions parse(String... args) {
        Run r = run(args);
        assertEquals(0, r.code(), r.err());
        return r.options();
    }

    /** A usage error: exit 2, one "vfu-server:" line saying what, a pointer to --help, nothing started. */
    private static String usageError(String... args) {
        Run r = run(args);
        assertEquals(ServerCommand.USAGE, r.code(), String.join(" ", args) + " -> " + r.err());
        assertNull(r.options(), "nothing runs after a usage error");
        assertTrue(r.err().startsWith("vfu-server: ") && r.err().contains("vfu-server --help"), r.err());
        return r.err();
    }

    @Test
    void socketAndMetricsPort() {
        CliOptions o = parse("--socket", "/tmp/a.sock", "--metrics-port", "9464");
        assertEquals(Path.of("/tmp/a.sock"), o.socket().orElseThrow());
        assertEquals(9464, o.metricsPort().orElseThrow());
        assertEquals("127.0.0.1", o.metricsHost());
        assertEquals("0.0.0.0", parse("--socket", "/a", "--metrics-host", "0.0.0.0").metricsHost());
    }

    @Test
    void specConventionSocketPathAlias() {
        assertEquals(Path.of("/x.sock"), parse("--socket-path=/x.sock").socket().orElseThrow());
    }

    @Test
    void configFile() {
        assertEquals(Path.of("devs.json"), parse("--config", "devs.json").config().orElseThrow());
    }

    @Test
    void helpNeedsNothingElseAndListsEveryOption() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertNull(r.options(), "--help starts nothing");
        for (String option : List.of("--socket", "--socket-path", "--config", "--metrics-port", "--metrics-host",
                "--socket-mode", "--socket-group", "--allow-uid", "--allow-gid", "--version", "VFU_SOCKET",
                "VFU_CONFIG", "VFU_METRICS_PORT", "Exit status")) {
            assertTrue(r.out().contains(option), option + " in:\n" + r.out());
        }
        assertEquals(r.out(), run("-h").out());
    }

    /**
     * bin/vfu-server answers --help from docs/vfu-server-help.txt before the jar is built, so that text is exactly
     * what the jar prints. Regenerate on purpose with {@code -Dvfu.help.update=true}.
     */
    @Test
    void theCheckedInHelpIsWhatTheServerPrints() throws IOException {
        Path checkedIn = Path.of("..", "docs", "vfu-server-help.txt");
        String help = run("--help").out();
        if (Boolean.getBoolean("vfu.help.update")) {
            java.nio.file.Files.writeString(checkedIn, help);
        }
        assertEquals(help, java.nio.file.Files.readString(checkedIn), "docs/vfu-server-help.txt is stale: "
                + "regenerate it with mvn test -pl server -am -Dtest=ServerCommandTest -Dvfu.help.update=true "
                + "-Dsurefire.failIfNoSpecifiedTests=false");
    }

    @Test
    void versionNamesTheMavenVersionAndTheCommit() {
        Run r = run("--version");
        assertEquals(0, r.code());
        assertEquals(BuildInfo.current().line() + System.lineSeparator(), r.out());
        assertTrue(r.out().matches("vfu-server \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{12}|unknown)\\)\\R"),
                r.out());
    }

    @Test
    void aMissingOrDoubledSourceIsAUsageError() {
        assertTrue(usageError("--metrics-port", "1").contains("one of --socket or --config is required"));
        assertTrue(usageError("--socket", "/a", "--config", "/b").contains("mutually exclusive"));
    }

    @Test
    void aMistypedOptionIsAUsageErrorWithASuggestion() {
        String e = usageError("--sockt", "/x");
        assertTrue(e.contains("Unknown option") && e.contains("'--sockt'")
                && e.contains("Possible solutions: --socket,"), e);
        e = usageError("--socket", "/a", "--metric-port", "9464");
        assertTrue(e.contains("--metrics-port"), e);
    }

    @Test
    void socketAccessOptionsBuildTheSingleDeviceConfig() {
        CliOptions o = parse("--socket", "/run/vfu/a.sock", "--socket-mode", "0660",
                "--socket-group=kvm", "--allow-uid", "107,1000", "--allow-uid=5", "--allow-gid", "107");
        assertEquals(new SocketMode(0660), o.socketMode().orElseThrow());
        assertEquals(new SocketGroup("kvm"), o.socketGroup().orElseThrow());
        assertEquals(List.of(107L, 1000L, 5L), o.allowUids(), "comma lists and repeats add up");
        assertEquals(List.of(107L), o.allowGids());
        ServerConfig c = o.singleDeviceConfig();
        assertEquals(new SocketAccess(new SocketMode(0660), Optional.of(new SocketGroup("kvm"))),
                c.socketAccess(c.devices().get(0)));
        assertEquals(new PeerPolicy(Set.of(107L, 1000L, 5L), Set.of(107L)), c.peerPolicy());
        ServerConfig plain = parse("--socket", "/a").singleDeviceConfig();
        assertEquals(SocketAccess.PRIVATE, plain.socketAccess(plain.devices().get(0)));
        assertEquals(PeerPolicy.SAME_USER, plain.peerPolicy());
    }

    @Test
    void socketAccessOptionsAreRefusedWithAConfigFileOrBadValues() {
        assertTrue(usageError("--config", "/c.json", "--allow-gid", "107").contains("allowedGids"));
        usageError("--config", "/c", "--socket-mode", "0660");
        assertTrue(usageError("--socket", "/a", "--socket-mode", "0755").contains("execute"));
        assertTrue(usageError("--socket", "/a", "--socket-mode", "u+rw").contains("octal"));
        assertTrue(usageError("--socket", "/a", "--socket-group", "a b").contains("group name"));
        assertTrue(usageError("--socket", "/a", "--allow-uid", "-1").contains("--allow-uid"));
        usageError("--socket", "/a", "--allow-uid", "1,,2");
        assertTrue(usageError("--socket", "/a", "--allow-gid", "qemu").contains("numeric"));
        assertTrue(usageError("--socket", "/a", "--allow-gid", "4294967295").contains("4294967295"));
    }

    @Test
    void missingValuesAndBadPortsAreUsageErrors() {
        assertTrue(usageError("--socket").contains("--socket"));
        usageError("--socket", "--help");
        assertTrue(usageError("--socket", "/a", "--metrics-port", "70000").contains("0-65535"));
        assertTrue(usageError("--socket", "/a", "--metrics-port", "x").contains("'x'"));
    }

    @Test
    void pollMaxUsOverridesTheConfigsWindowAndIsRangeChecked() {
        io.vfu.server.config.ServerConfig c = io.vfu.server.config.ServerConfig.single(Path.of("/a"));
        assertEquals(java.time.Duration.ofNanos(50_000), parse("--socket", "/a").limits(c).polling().max(),
                "the default window");
        assertEquals(java.time.Duration.ofNanos(120_000),
                parse("--socket", "/a", "--poll-max-us", "120").limits(c).polling().max());
        assertFalse(parse("--socket", "/a", "--poll-max-us", "0").limits(c).polling().enabled(), "0: no polling");
        io.vfu.server.config.ServerConfig polling = io.vfu.server.config.ServerConfig.parse("c.json", """
                {"limits": {"pollMaxMicros": 200}, "devices": [{"name": "a", "socket": "/a"}]}""");
        assertEquals(java.time.Duration.ofNanos(200_000), parse("--config", "/c.json").limits(polling).polling().max(),
                "the file's window when the option is not given");
        assertFalse(parse("--config", "/c.json", "--poll-max-us", "0").limits(polling).polling().enabled(),
                "0 on the command line turns the file's polling off");
        assertTrue(usageError("--socket", "/a", "--poll-max-us", "1001").contains("0-1000"));
        assertTrue(usageError("--socket", "/a", "--poll-max-us", "-1").contains("0-1000"));
        assertTrue(usageError("--socket", "/a", "--poll-max-us", "fast").contains("'fast'"));
    }

    @Test
    void aRuntimeFailureExitsOneWithItsReasonOnOneLine() {
        Run r = run(o -> {
            throw new IOException("device default: cannot bind /nonexistent/x.sock: ENOENT (No such file or directory)");
        }, "--socket", "/nonexistent/x.sock");
        assertEquals(ServerCommand.FAILURE, r.code());
        assertEquals("vfu-server: device default: cannot bind /nonexistent/x.sock: ENOENT (No such file or directory)",
                r.err().strip());
        Run bug = run(o -> {
            throw new IllegalStateException("a bug");
        }, "--socket", "/a");
        assertEquals(ServerCommand.FAILURE, bug.code());
        assertTrue(bug.err().contains("at io.vfu.server"), "a bug shows where it happened: " + bug.err());
    }
}
