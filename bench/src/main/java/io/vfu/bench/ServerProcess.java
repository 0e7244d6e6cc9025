package io.vfu.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code vfu-server} in its own process. {@link #startupNanos()} is the time from {@link ProcessBuilder#start}
 * to the {@code vfu-server ready} line on its stdout (the sockets are listening by then). Its stderr goes
 * to a log file.
 */
final class ServerProcess implements AutoCloseable {

    private static final Pattern METRICS = Pattern.compile("\\bmetrics=(\\S+)");

    private final Process process;
    private final long startupNanos;
    private final String readyLine;

    private ServerProcess(Process process, long startupNanos, String readyLine) {
        this.process = process;
        this.startupNanos = startupNanos;
        this.readyLine = readyLine;
    }

    /**
     * The command that runs the server: {@code java [jvmOptions] -jar serverJar}, or, without a jar, the
     * harness's own class path with main class {@code io.vfu.server.Main}.
     */
    static List<String> command(Path serverJar, List<String> jvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (serverJar != null) {
            cmd.add("-jar");
            cmd.add(serverJar.toString());
        } else {
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("io.vfu.server.Main");
        }
        return cmd;
    }

    /** Starts the server with {@code args} and waits (up to {@code timeoutSeconds}) for its ready line. */
    static ServerProcess start(List<String> command, List<String> args, Path log, long timeoutSeconds)
            throws IOException {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(args);
        // The server logs every connection on stderr; 1,000 devices would flood the table, so it goes to a file.
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        long t0 = System.nanoTime();
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Ready> ready = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("vfu-server ready")) {
                        return new Ready(System.nanoTime(), line);
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        }, Thread.ofPlatform().daemon()::start);
        Ready readyAt;
        try {
            readyAt = ready.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("server did not print its ready line within " + timeoutSeconds + " s (log: " + log + ")", e);
        }
        if (readyAt == null) {
            p.destroyForcibly();
            throw new IOException("server exited before it was ready (log: " + log + "): " + cmd);
        }
        // Drain the rest of stdout so the server never blocks on a full pipe.
        Thread.ofPlatform().daemon().start(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException ignored) {
                // The server exited.
            }
        });
        return new ServerProcess(p, readyAt.nanoTime() - t0, readyAt.line());
    }

    private record Ready(long nanoTime, String line) {
    }

    long startupNanos() {
        return startupNanos;
    }

    /**
     * The metrics endpoint the ready line names ({@code metrics=http://host:port/metrics}, printed when the
     * server was started with {@code --metrics-port}).
     */
    Optional<URI> metricsUri() {
        Matcher m = METRICS.matcher(readyLine);
        return m.find() ? Optional.of(URI.create(m.group(1))) : Optional.empty();
    }

    long pid() {
        return process.pid();
    }

    /** Resident set size of the server process (VmRSS in /proc), in bytes. */
    long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                String[] f = line.trim().split("\\s+");
                return Long.parseLong(f[1]) * 1024;
            }
        }
        throw new IOException("no VmRSS for pid " + process.pid());
    }

    /** SIGTERM, then SIGKILL after 5 s. */
    @Override
    public void close() {
        stop(5);
    }

    /** SIGTERM, then SIGKILL after {@code seconds} (a JVM writing an AOT cache as it exits needs a while). */
    void stop(long seconds) {
        process.destroy();
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
