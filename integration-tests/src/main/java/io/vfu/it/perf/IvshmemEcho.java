package io.vfu.it.perf;

import io.vfu.it.ProcessResult;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host end of the guest bench's floor target: {@code ivshmem-echo} ({@code src/main/guest-bench-host}, in
 * this module's jar under {@code io/vfu/it/perf/guest-bench-host/}), an ivshmem server for QEMU's
 * {@code ivshmem-doorbell} that is also the device's only other peer (ID 1) and answers every doorbell on a vector
 * with an interrupt on the same vector of the device. Compiled with the host's {@code gcc}; it must listen before
 * QEMU starts, because QEMU reads the server's first messages while it realizes the device.
 *
 * <p>It ends by itself when QEMU disconnects; {@link #stop()} (or {@link #close()}) sends SIGTERM if it has not,
 * requires exit 0 and returns how many doorbells it answered. Its stdout and stderr go to a log file, not a pipe:
 * a pipe's last lines can be lost to the JDK closing it when the process exits.
 */
public final class IvshmemEcho implements AutoCloseable {
    static final String SOURCE = "guest-bench-host/ivshmem_echo.c";
    private static final String READY = "ivshmem-echo ready";
    private static final Pattern ECHOED = Pattern.compile("^ivshmem-echo echoed (\\d+)$");
    private static final Duration READY_LIMIT = Duration.ofSeconds(10);

    private final Process process;
    private final Path log;
    private OptionalLong echoed = OptionalLong.empty();
    private boolean stopped;

    private IvshmemEcho(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Compiles the program into {@code dir} ({@code gcc -O2}, warnings are errors); returns the binary. */
    public static Path build(Path dir) throws IOException, InterruptedException {
        Path src = Files.createDirectories(dir).resolve("ivshmem_echo.c");
        try (InputStream in = IvshmemEcho.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IOException(SOURCE + " is not on the class path (io/vfu/it/perf)");
            }
            Files.copy(in, src, StandardCopyOption.REPLACE_EXISTING);
        }
        Path bin = dir.resolve("ivshmem-echo");
        ProcessResult r = ProcessResult.run(List.of("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", bin.toString(),
                src.toString()), Duration.ofMinutes(1));
        if (r.exitCode() != 0) {
            throw new IOException("gcc failed (" + r.exitCode() + "):\n" + r.stdout() + r.stderr());
        }
        return bin;
    }

    /**
     * Starts {@code binary} serving {@code vectors} vectors on {@code socket} (which must not exist), its output
     * going to {@code socket} + {@code ".log"}, and waits until it listens.
     */
    public static IvshmemEcho start(Path binary, Path socket, int vectors) throws IOException, InterruptedException {
        Path log = socket.resolveSibling(socket.getFileName() + ".log");
        Process p = new ProcessBuilder(binary.toString(), socket.toString(), Integer.toString(vectors))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        IvshmemEcho echo = new IvshmemEcho(p, log);
        long deadline = System.nanoTime() + READY_LIMIT.toNanos();
        boolean ready = false;
        try {
            // Rule: QEMU may start only once the echo listens, which its ready line says.
            while (!echo.lines().contains(READY)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("ivshmem-echo did not listen on " + socket + " within "
                            + READY_LIMIT.toSeconds() + " s: " + echo.tail());
                }
                Thread.sleep(5);
            }
            ready = true;
            return echo;
        } finally {
            // Rule: an echo that is not handed to the caller (not ready, or the wait failed) is stopped here.
            if (!ready) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private List<String> lines() throws IOException {
        return Files.readAllLines(log);
    }

    private String tail() throws IOException {
        List<String> l = lines();
        return String.join("\n", l.subList(Math.max(0, l.size() - 5), l.size()));
    }

    /**
     * Stops it (SIGTERM, if QEMU's disconnect has not ended it already) and returns how many doorbells it
     * answered, as its last line says (several rung before it woke up share one interrupt); throws unless it
     * exited 0 with that line.
     */
    public long stop() throws IOException, InterruptedException {
        if (stopped) {
            return echoed.orElseThrow(() -> new IOException("ivshmem-echo has already failed"));
        }
        stopped = true;
        if (process.isAlive()) {
            process.destroy();
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new IOException("ivshmem-echo did not end within 10 s of SIGTERM");
        }
        if (process.exitValue() != 0) {
            throw new IOException("ivshmem-echo exited with " + process.exitValue() + ": " + tail());
        }
        for (String line : lines()) {
            Matcher m = ECHOED.matcher(line);
            if (m.matches()) {
                echoed = OptionalLong.of(Long.parseLong(m.group(1)));
            }
        }
        if (echoed.isEmpty()) {
            throw new IOException("ivshmem-echo exited 0 without its count: " + tail());
        }
        return echoed.getAsLong();
    }

    /** {@link #stop()}, unless that has been called. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (!stopped) {
            stop();
        }
    }
}
