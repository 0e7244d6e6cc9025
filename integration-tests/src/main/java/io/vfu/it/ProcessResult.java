package io.vfu.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The outcome of a short-lived command, such as {@code qemu-system-x86_64 -version}.
 *
 * @param exitCode the process exit code
 * @param stdout everything written to stdout
 * @param stderr everything written to stderr
 */
public record ProcessResult(int exitCode, String stdout, String stderr) {

    /** Runs {@code command} with stdin closed; kills it and throws if it runs longer than {@code timeout}. */
    public static ProcessResult run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            p.destroyForcibly();
            throw new IOException(command + " did not finish within " + timeout);
        }
        return new ProcessResult(p.exitValue(), out.join(), err.join());
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "[vfu-it: reading output failed: " + e + "]";
        }
    }
}
