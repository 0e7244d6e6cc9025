package io.vfu.it;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code server/target/vfu-server.jar} started as its own process on a {@code --config} file, with JVM flags and
 * environment that make its resource counts repeatable (see {@link #DETERMINISTIC_JVM_FLAGS} and
 * {@link #DETERMINISTIC_GLIBC}), metrics on an ephemeral loopback port, its metaspace reservations logged
 * ({@link #metaspace()}) and a crash report, if the JVM dies, written where the caller says. Its stdout's first
 * line must be the ready line; stderr goes to a file.
 */
final class ServerProcess implements AutoCloseable {

    /**
     * JVM flags that keep the server's own thread and mapping counts from moving on their own:
     * <ul>
     *   <li>{@code -XX:+UseSerialGC}: no GC worker threads;</li>
     *   <li>{@code -Xms} = {@code -Xmx}: the heap is committed once, its mappings never grow or shrink;</li>
     *   <li>{@code -XX:-UseDynamicNumberOfCompilerThreads}: every JIT compiler thread starts with the JVM and
     *       none is added or retired under load;</li>
     *   <li>one virtual-thread carrier ({@code jdk.virtualThreadScheduler.parallelism} and {@code maxPoolSize}
     *       1): the server's admitters and refusal timers are virtual threads, whose carrier pool otherwise
     *       grows and shrinks with load.</li>
     * </ul>
     */
    static final List<String> DETERMINISTIC_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xms96m", "-Xmx96m",
            "-XX:-UseDynamicNumberOfCompilerThreads", "-Djdk.virtualThreadScheduler.parallelism=1",
            "-Djdk.virtualThreadScheduler.maxPoolSize=1");

    /**
     * glibc tunables with the same aim: one malloc arena (per-thread arenas are mappings created on demand),
     * malloc never mmaps (large blocks come from the one heap, so a large buffer freed only when the JVM's GC
     * runs its cleaner does not leave a mapping behind), and no cache of exited threads' stacks (each exited
     * thread's stack is unmapped instead of kept for reuse).
     */
    static final String DETERMINISTIC_GLIBC =
            "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.pthread.stack_cache_size=0";

    /** Matches the JVM's log line for a new metaspace reservation: its base and size in 8-byte words. */
    private static final Pattern METASPACE_NODE =
            Pattern.compile("VsListNode @0x\\p{XDigit}+ base 0x(\\p{XDigit}+) : born \\(word_size (\\d+)\\)");

    /** {@code [start, end)} of a process's address space. */
    record AddressRange(long start, long end) {
        /** Whether the mapping of a {@code /proc/PID/maps} line lies inside this range. */
        boolean holds(String mapsLine) {
            int dash = mapsLine.indexOf('-');
            int space = mapsLine.indexOf(' ');
            long from = Long.parseUnsignedLong(mapsLine.substring(0, dash), 16);
            long to = Long.parseUnsignedLong(mapsLine.substring(dash + 1, space), 16);
            return Long.compareUnsigned(from, start) >= 0 && Long.compareUnsigned(to, end) <= 0;
        }
    }

    private final Process process;
    private final Path stderr;
    private final Path metaspaceLog;
    private final String readyLine;

    private ServerProcess(Process process, Path stderr, Path metaspaceLog, String readyLine) {
        this.process = process;
        this.stderr = stderr;
        this.metaspaceLog = metaspaceLog;
        this.readyLine = readyLine;
    }

    /**
     * Starts the server on {@code config} and waits up to {@code timeout} for its ready line; stderr goes to
     * {@code dir/server.stderr}, a JVM crash report to {@code crashDir}.
     */
    static ServerProcess start(Path config, Path dir, Path crashDir, Duration timeout) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(DETERMINISTIC_JVM_FLAGS);
        Files.createDirectories(crashDir);
        cmd.add("-XX:ErrorFile=" + crashDir.toAbsolutePath().resolve("hs_err_pid%p.log"));
        Path metaspaceLog = dir.resolve("metaspace.log");
        cmd.add("-Xlog:metaspace=debug:file=" + metaspaceLog + "::filecount=0"); // filecount=0: never rotated
        cmd.addAll(List.of("-jar", ServerProcessTest.serverJar().toString(), "--config", config.toString(),
                "--metrics-port", "0"));
        Path stderr = dir.resolve("server.stderr");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr.toFile());
        pb.environment().put("GLIBC_TUNABLES", DETERMINISTIC_GLIBC);
        Process p = pb.start();
        String ready;
        try {
            ready = Clients.firstLine(p, timeout);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
        ServerProcess s = new ServerProcess(p, stderr, metaspaceLog, ready);
        if (ready == null || !ready.startsWith("vfu-server ready ") || !ready.contains(" metrics=http://")) {
            s.close();
            throw new IllegalStateException("no ready line (got " + ready + "); stderr:\n" + s.stderrTail(40));
        }
        return s;
    }

    /**
     * The JVM's metaspace reservations (compressed class space and every non-class node), as it logs them with
     * {@code -Xlog:metaspace=debug}.
     */
    List<AddressRange> metaspace() {
        try (Stream<String> lines = Files.lines(metaspaceLog, StandardCharsets.ISO_8859_1)) {
            return lines.map(METASPACE_NODE::matcher).filter(Matcher::find).map(m -> {
                long base = Long.parseUnsignedLong(m.group(1), 16);
                return new AddressRange(base, base + 8 * Long.parseLong(m.group(2)));
            }).toList();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot read the server JVM's metaspace log " + metaspaceLog, e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String readyLine() {
        return readyLine;
    }

    /** The metrics endpoint the ready line names ({@code metrics=http://127.0.0.1:PORT/metrics}). */
    MetricsProbe metrics() {
        String url = readyLine.substring(readyLine.indexOf(" metrics=") + " metrics=".length()).strip();
        return new MetricsProbe(URI.create(url), Duration.ofSeconds(10));
    }

    ProcessResources resources() {
        return ProcessResources.of(process.pid());
    }

    /** The exit code if it has ended, for messages. */
    String state() {
        return process.isAlive() ? "alive" : "exited with " + process.exitValue();
    }

    /** The last {@code lines} lines of the server's stderr (from its last 32 KiB: the log may be large). */
    String stderrTail(int lines) {
        try (RandomAccessFile f = new RandomAccessFile(stderr.toFile(), "r")) {
            long from = Math.max(0, f.length() - 32 * 1024);
            byte[] tail = new byte[(int) (f.length() - from)];
            f.seek(from);
            f.readFully(tail);
            List<String> all = new String(tail, StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(stderr unreadable: " + e.getMessage() + ")";
        }
    }

    /** Every line of the server's stderr so far. */
    List<String> stderrLines() {
        try (Stream<String> lines = Files.lines(stderr, StandardCharsets.ISO_8859_1)) {
            return lines.toList();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot read the server's stderr " + stderr, e);
        }
    }

    /**
     * The distinct lines of the server's stderr that report an error (an uncaught exception, an Error, a
     * WARNING or SEVERE log record's message), at most {@code max}: what a failure's reader looks at first.
     */
    String stderrErrors(int max) {
        try (Stream<String> lines = Files.lines(stderr, StandardCharsets.ISO_8859_1)) {
            List<String> all = lines.toList();
            LinkedHashSet<String> found = new LinkedHashSet<>();
            for (int i = 0; i < all.size() && found.size() < max; i++) {
                String l = all.get(i);
                if (l.startsWith("Exception in thread") || l.startsWith("WARNING:") || l.startsWith("SEVERE:")
                        || l.contains(" VM warning: ")
                        || l.matches("^\\S+(Error|Exception)\\b.*")) {
                    found.add(l);
                }
            }
            return found.isEmpty() ? "(none)" : String.join("\n", found);
        } catch (IOException | UncheckedIOException e) {
            return "(stderr unreadable: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, up to 10 s for it to exit, then SIGKILL. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
