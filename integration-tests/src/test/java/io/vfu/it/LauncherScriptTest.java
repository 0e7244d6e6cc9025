package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/vfu-server} before and around the jar: on a fresh clone (no jar, no Maven on the PATH) {@code --help}
 * and {@code --version} answer at once and say what the jar says, and a Java older than 25 gets one clear line.
 */
class LauncherScriptTest {
    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    record Result(int code, String out, String err, long millis) {
    }

    private Result run(Path script, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile());
        pb.environment().remove("JAVA_HOME");
        // Rule of this test: no Maven on the PATH, so a build attempt fails instead of quietly taking 30 s.
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), Files.readString(dir.resolve("out")), Files.readString(dir.resolve("err")),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** A copy of the files a fresh clone has that the script reads, without any build output. */
    private Path freshClone() throws Exception {
        Path top = Files.createDirectories(dir.resolve("clone"));
        Files.createDirectories(top.resolve("bin"));
        Files.createDirectories(top.resolve("docs"));
        Files.copy(TOP.resolve("bin/vfu-server"), top.resolve("bin/vfu-server"));
        Files.copy(TOP.resolve("docs/vfu-server-help.txt"), top.resolve("docs/vfu-server-help.txt"));
        Files.copy(TOP.resolve("pom.xml"), top.resolve("pom.xml"));
        return top.resolve("bin/vfu-server");
    }

    @Test
    void helpAndVersionAnswerAtOnceBeforeAnyBuild() throws Exception {
        Path script = freshClone();
        Result help = run(script, Map.of(), "--help");
        assertEquals(0, help.code(), help.err());
        assertEquals(Files.readString(TOP.resolve("docs/vfu-server-help.txt")), help.out());
        assertTrue(help.millis() < 5000, "answered in " + help.millis() + " ms");
        assertFalse(Files.exists(script.getParent().resolve("../server")), "nothing was built");
        Result version = run(script, Map.of(), "--version");
        assertEquals(0, version.code(), version.err());
        assertTrue(version.out().matches("vfu-server \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit unknown\\)\\n"),
                "no .git in this copy: " + version.out());
    }

    @Test
    void theScriptAndTheJarSayTheSameVersion() throws Exception {
        assertTrue(Files.isRegularFile(ServerProcessTest.serverJar()));
        Result fromJar = run(TOP.resolve("bin/vfu-server"), Map.of("VFU_AOT", "off"), "--version");
        assertEquals(0, fromJar.code(), fromJar.err());
        assertEquals(io.vfu.server.BuildInfo.current().line(), fromJar.out().strip());
        // A clone without the jar: the script answers from pom.xml and git, in the jar's words.
        Path script = freshClone();
        Path top = script.getParent().getParent();
        for (String[] git : new String[][] {{"init", "-q"}, {"add", "pom.xml"}, {"-c", "user.name=t", "-c",
                "user.email=t@t", "commit", "-q", "-m", "t"}}) {
            List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", top.toString()));
            cmd.addAll(List.of(git));
            assertEquals(0, new ProcessBuilder(cmd).inheritIO().start().waitFor());
        }
        String head = new String(new ProcessBuilder("git", "-C", top.toString(), "rev-parse", "HEAD").start()
                .getInputStream().readAllBytes()).strip();
        assertEquals("vfu-server " + io.vfu.server.BuildInfo.current().version() + " (commit " + head.substring(0, 12)
                + ")", run(script, Map.of(), "--version").out().strip());
    }

    @Test
    void anOldJavaGetsOneClearLine() throws Exception {
        Path jdk = Files.createDirectories(dir.resolve("jdk17/bin"));
        Files.writeString(jdk.getParent().resolve("release"), "JAVA_VERSION=\"17.0.9\"\n");
        Path java = Files.writeString(jdk.resolve("java"), """
                #!/bin/sh
                echo 'Error: LinkageError occurred while loading main class io.vfu.server.Main' >&2
                echo 'java.lang.UnsupportedClassVersionError: io/vfu/server/Main has been compiled by a more recent version' >&2
                exit 1
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result r = run(TOP.resolve("bin/vfu-server"), Map.of("JAVA_HOME", jdk.getParent().toString()),
                "--socket", dir.resolve("a.sock").toString());
        assertEquals(1, r.code());
        assertEquals("vfu-server: needs Java 25 or later, but " + java + " is Java 17.0.9 (set JAVA_HOME to a JDK 25)",
                r.err().strip());
        assertEquals("", r.out());
    }
}
