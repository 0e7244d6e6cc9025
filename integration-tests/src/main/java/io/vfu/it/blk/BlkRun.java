package io.vfu.it.blk;

import io.vfu.it.OutputLog;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One boot of the virtio-blk guest to power-off: QEMU's exit code, the serial console's lines, the end of
 * QEMU's stderr and the wall time. A guest still running at the deadline is killed and reported as exit -1.
 */
public record BlkRun(int exitCode, List<String> console, String stderrTail, Duration wall) {

    /** Runs {@code command} (from {@link BlkGuest#command}) until QEMU exits, at most {@code timeout}. */
    public static BlkRun boot(List<String> command, Duration timeout) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process qemu = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        OutputLog console = OutputLog.start(qemu.getInputStream(), "blk-guest-console");
        OutputLog stderr = OutputLog.start(qemu.getErrorStream(), "blk-qemu-stderr");
        try {
            boolean exited = qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) {
                qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            console.join(Duration.ofSeconds(5));
            stderr.join(Duration.ofSeconds(5));
            return new BlkRun(exited ? qemu.exitValue() : -1, console.lines(), stderr.tail(30),
                    Duration.ofNanos(System.nanoTime() - t0));
        } finally {
            qemu.destroyForcibly();
        }
    }

    /** The text after {@code prefix} on the first console line that has it, or null. */
    public String line(String prefix) {
        for (String l : console) {
            int at = l.indexOf(prefix);
            if (at >= 0) {
                return l.substring(at + prefix.length()).strip();
            }
        }
        return null;
    }

    /** Everything, for failure messages: exit code, the console and QEMU's stderr. */
    public String transcript() {
        return "QEMU exit " + exitCode + " after " + wall.toMillis() + " ms\n--- console\n" + String.join("\n", console)
                + "\n--- QEMU stderr (tail)\n" + stderrTail;
    }
}
