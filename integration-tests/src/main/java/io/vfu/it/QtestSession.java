package io.vfu.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One QEMU process in qtest mode, driven over its stdin/stdout with the qtest line protocol.
 *
 * <p>Each command is one line; QEMU answers {@code OK}, {@code OK <value>} or {@code FAIL <reason>}. Values
 * of {@code in*}/{@code read*} are hex ({@code OK 0x00000000efbeadde}); {@code read ADDR LEN} answers the bytes
 * in address order as one hex string; {@code clock_step} answers the new virtual time in decimal ns.
 * Lines starting with {@code IRQ} are asynchronous and are collected apart from replies.
 *
 * <p>QEMU does not exit when stdin closes, so {@link #close()} sends SIGTERM and waits, then kills.
 * Not thread-safe per command: commands are serialised.
 */
public final class QtestSession implements AutoCloseable {
    private static final String EOF = "\u0000eof";
    private static final Duration DEFAULT_START = Duration.ofSeconds(30);

    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final List<String> asyncLines = new ArrayList<>();
    private final OutputLog stderr;
    private Duration commandTimeout = Duration.ofSeconds(30);

    private QtestSession(Process process) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.stderr = OutputLog.start(process.getErrorStream(), "qemu-stderr-" + process.pid());
        Thread.ofPlatform().daemon().name("qemu-stdout-" + process.pid()).start(this::pumpStdout);
    }

    /** Starts QEMU and waits (up to 30 s) until it answers qtest; see {@link #start(QemuArgs, Duration)}. */
    public static QtestSession start(QemuArgs args) {
        return start(args, DEFAULT_START);
    }

    /**
     * Starts QEMU and waits until it answers a first qtest command. A vfio-user device connects to its server
     * before that, so a server that is absent or refuses makes this throw with QEMU's error message.
     *
     * @throws QtestException if QEMU exits first or does not answer within {@code startTimeout}
     */
    public static QtestSession start(QemuArgs args, Duration startTimeout) {
        List<String> cmd = args.build();
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new QtestException("cannot start " + cmd.getFirst(), e);
        }
        QtestSession s = new QtestSession(p);
        try {
            String endian = s.command("endianness", startTimeout);
            if (!endian.equals("little")) {
                throw new QtestException("unexpected qtest endianness '" + endian + "'");
            }
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void pumpStdout() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("IRQ")) {
                    synchronized (asyncLines) {
                        asyncLines.add(line);
                    }
                } else {
                    replies.add(line);
                }
            }
        } catch (IOException ignored) {
            // The stream ends with the process; EOF below tells a waiting command.
        } finally {
            replies.add(EOF);
        }
    }

    /** Sets how long each later command waits for its reply (default 30 s). */
    public void commandTimeout(Duration timeout) {
        this.commandTimeout = timeout;
    }

    /** Sends one raw qtest command line and returns the text after {@code OK} (empty for a bare OK). */
    public String command(String line) {
        return command(line, commandTimeout);
    }

    private synchronized String command(String line, Duration timeout) {
        if (line.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a qtest command is one line: " + line);
        }
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
        } catch (IOException e) {
            throw failure("cannot send '" + line + "'", e);
        }
        String reply;
        try {
            reply = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted waiting for the reply to '" + line + "'", e);
        }
        if (reply == null) {
            throw failure("no reply to '" + line + "' within " + timeout, null);
        }
        if (reply == EOF) {
            replies.add(EOF);
            throw failure("QEMU closed stdout before answering '" + line + "'", null);
        }
        if (reply.equals("OK")) {
            return "";
        }
        if (reply.startsWith("OK ")) {
            return reply.substring(3).strip();
        }
        throw failure("'" + line + "' answered '" + reply + "'", null);
    }

    private QtestException failure(String what, Throwable cause) {
        String state;
        try {
            state = process.waitFor(200, TimeUnit.MILLISECONDS)
                    ? "QEMU exited with code " + process.exitValue() : "QEMU is running";
            stderr.join(Duration.ofMillis(500));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state = "interrupted";
        }
        return new QtestException(what + " (" + state + "); stderr:\n" + stderr.tail(40), cause);
    }

    private static long hex(String v) {
        if (!v.startsWith("0x")) {
            throw new QtestException("expected a hex value, got '" + v + "'");
        }
        return Long.parseUnsignedLong(v.substring(2), 16);
    }

    /** Writes one byte to an I/O port. */
    public void outb(int port, int value) {
        command(String.format("outb 0x%x 0x%x", port, value & 0xff));
    }

    /** Writes two bytes to an I/O port. */
    public void outw(int port, int value) {
        command(String.format("outw 0x%x 0x%x", port, value & 0xffff));
    }

    /** Writes four bytes to an I/O port. */
    public void outl(int port, long value) {
        command(String.format("outl 0x%x 0x%x", port, value & 0xffff_ffffL));
    }

    /** Reads one byte from an I/O port. */
    public int inb(int port) {
        return (int) hex(command(String.format("inb 0x%x", port)));
    }

    /** Reads two bytes from an I/O port. */
    public int inw(int port) {
        return (int) hex(command(String.format("inw 0x%x", port)));
    }

    /** Reads four bytes from an I/O port, widened to an unsigned long. */
    public long inl(int port) {
        return hex(command(String.format("inl 0x%x", port)));
    }

    /** Reads 1, 2, 4 or 8 bytes of guest-physical memory or MMIO as one little-endian access. */
    public long read(long address, int width) {
        return hex(command(String.format("read%s 0x%x", suffix(width), address)));
    }

    /** Writes 1, 2, 4 or 8 bytes of guest-physical memory or MMIO as one little-endian access. */
    public void write(long address, int width, long value) {
        command(String.format("write%s 0x%x 0x%x", suffix(width), address, value));
    }

    public long readl(long address) {
        return read(address, 4);
    }

    public void writel(long address, long value) {
        write(address, 4, value & 0xffff_ffffL);
    }

    private static String suffix(int width) {
        return switch (width) {
            case 1 -> "b";
            case 2 -> "w";
            case 4 -> "l";
            case 8 -> "q";
            default -> throw new IllegalArgumentException("access width must be 1, 2, 4 or 8, got " + width);
        };
    }

    /** Reads {@code length} bytes of guest-physical memory in address order. */
    public byte[] readBytes(long address, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("length must be positive, got " + length);
        }
        String v = command(String.format("read 0x%x %d", address, length));
        if (!v.startsWith("0x") || v.length() != 2 + 2 * length) {
            throw new QtestException("expected " + length + " hex bytes, got '" + v + "'");
        }
        return HexFormat.of().parseHex(v, 2, v.length());
    }

    /** Writes bytes to guest-physical memory in address order. */
    public void writeBytes(long address, byte[] data) {
        if (data.length == 0) {
            throw new IllegalArgumentException("nothing to write");
        }
        command(String.format("write 0x%x %d 0x%s", address, data.length, HexFormat.of().formatHex(data)));
    }

    /** Advances virtual time by {@code ns} (positive; QEMU refuses 0) and returns the new virtual time in ns. */
    public long clockStep(long ns) {
        return Long.parseLong(command("clock_step " + ns));
    }

    /** Advances virtual time to the next timer deadline and returns the new virtual time in ns. */
    public long clockStep() {
        return Long.parseLong(command("clock_step"));
    }

    /** QEMU's stderr: errors, and trace events unless {@code -D} sends them to a file. */
    public OutputLog stderr() {
        return stderr;
    }

    /**
     * Waits until a stderr line at index {@code from} or later contains a match of {@code pattern}
     * (use {@code stderr().size()} before an action to wait only for what the action causes).
     *
     * @throws QtestException naming the pattern and the stderr tail if none comes in time
     */
    public String awaitStderr(Pattern pattern, int from, Duration timeout) {
        try {
            return stderr.await(pattern, from, timeout).map(OutputLog.Line::text)
                    .orElseThrow(() -> failure("no stderr line matching /" + pattern + "/ within " + timeout, null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted waiting for /" + pattern + "/", e);
        }
    }

    /** Asynchronous {@code IRQ raise|lower N} lines seen so far (only with {@code irq_intercept_*}). */
    public List<String> asyncLines() {
        synchronized (asyncLines) {
            return List.copyOf(asyncLines);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops QEMU if it still runs (SIGTERM, then SIGKILL after 10 s) and returns its exit code. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }

    /** Like {@link #close()} with a chosen grace period; returns the exit code. */
    public int stop(Duration grace) {
        try {
            try {
                stdin.close();
            } catch (IOException ignored) {
                // QEMU may already be gone; the signal below is what stops it.
            }
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(grace.toNanos(), TimeUnit.NANOSECONDS);
                }
            }
            stderr.join(Duration.ofSeconds(2));
            return process.isAlive() ? -1 : process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }
}
