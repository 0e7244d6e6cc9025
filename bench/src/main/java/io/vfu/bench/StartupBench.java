package io.vfu.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Start-up: process start to the {@code vfu-server ready} line, one default device, in three ways, interleaved
 * run by run so a load change on the shared machine hits all three alike:
 * <ul>
 *   <li>plain: the command as given, no application archive (the JDK's own default CDS archive still applies);
 *   <li>CDS: a dynamic AppCDS archive ({@code -XX:+AutoCreateSharedArchive}), written by one untimed start;
 *   <li>AOT: a JDK 25 AOT cache (JEP 483/514) trained by one untimed start with {@code -XX:AOTCacheOutput},
 *       then used with {@code -XX:AOTCache} and the other flags {@code bin/vfu-server} passes: how users start it.
 * </ul>
 * Archive and cache live in the cache directory and are recreated every run (the jar may have changed).
 */
final class StartupBench {

    /** The JVM flags {@code bin/vfu-server} adds besides the cache (JVM output to stderr, not stdout). */
    static final List<String> SCRIPT_FLAGS = List.of("-Xlog:disable", "-Xlog:all=warning:stderr",
            "-XX:+DisplayVMOutputToStderr");

    /** Medians in ms; {@code aotCacheBytes} is 0 when training produced no cache (the AOT figure is then plain). */
    record Result(double plainMs, double cdsMs, double aotMs, long aotCacheBytes) {
    }

    private StartupBench() {
    }

    static Result run(List<String> server, Path work, Path cacheDir, Path log, int runs) throws Exception {
        Files.createDirectories(cacheDir);
        Path jsa = cacheDir.resolve("vfu-server.jsa");
        Path aot = cacheDir.resolve("vfu-server.aot");
        Files.deleteIfExists(jsa);
        Files.deleteIfExists(aot);
        List<String> cds = with(server, List.of("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + jsa));
        List<String> train = with(server, List.of("-XX:AOTCacheOutput=" + aot));
        List<String> aotRun = with(server, concat(SCRIPT_FLAGS, List.of("-XX:AOTCache=" + aot)));
        Path sock = work.resolve("start.sock");
        // Untimed: the first CDS start writes the archive as it exits; the training start writes the AOT cache
        // (the JVM assembles it in a child JVM at exit, which takes seconds on a busy machine).
        time(cds, sock, log, 10);
        time(train, sock, log, 120);
        double[] plain = new double[runs], withCds = new double[runs], withAot = new double[runs];
        for (int i = 0; i < runs; i++) {
            plain[i] = time(server, sock, log, 10);
            withCds[i] = time(cds, sock, log, 10);
            withAot[i] = time(aotRun, sock, log, 10);
        }
        long bytes = Files.exists(aot) ? Files.size(aot) : 0;
        return new Result(Stats.median(plain), Stats.median(withCds), Stats.median(withAot), bytes);
    }

    private static double time(List<String> cmd, Path sock, Path log, long stopSeconds) throws IOException {
        try {
            ServerProcess s = ServerProcess.start(cmd, List.of("--socket", sock.toString()), log, 60);
            try {
                return s.startupNanos() / 1e6;
            } finally {
                s.stop(stopSeconds);
            }
        } finally {
            Files.deleteIfExists(sock);
        }
    }

    /** {@code server} with {@code flags} inserted right after the java executable. */
    private static List<String> with(List<String> server, List<String> flags) {
        List<String> cmd = new ArrayList<>(server);
        cmd.addAll(1, flags);
        return cmd;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }
}
