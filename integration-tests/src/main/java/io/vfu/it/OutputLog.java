package io.vfu.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Collects the lines of a process stream (QEMU's stderr, where trace events and errors go) on a daemon thread,
 * and lets a test wait for a line matching a pattern.
 */
public final class OutputLog {
    private final List<String> lines = new ArrayList<>();
    private final Thread pump;
    private boolean closed;

    private OutputLog(InputStream in, String name) {
        pump = Thread.ofPlatform().daemon().name(name).unstarted(() -> pump(in));
    }

    /** Starts reading {@code in} until end of stream. */
    public static OutputLog start(InputStream in, String name) {
        OutputLog log = new OutputLog(in, name);
        log.pump.start();
        return log;
    }

    private void pump(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (this) {
                    lines.add(line);
                    notifyAll();
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                lines.add("[vfu-it: reading stream failed: " + e + "]");
            }
        } finally {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
        }
    }

    /** A copy of every line read so far. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** The last {@code n} lines, joined with newlines, for error messages. */
    public synchronized String tail(int n) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /**
     * Waits until a line at index {@code from} or later contains a match of {@code pattern}.
     *
     * @return the index and text of the first such line, or empty when the stream ended or time ran out
     */
    public Optional<Line> await(Pattern pattern, int from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            for (int i = Math.max(0, from); ; ) {
                for (; i < lines.size(); i++) {
                    if (pattern.matcher(lines.get(i)).find()) {
                        return Optional.of(new Line(i, lines.get(i)));
                    }
                }
                long left = deadline - System.nanoTime();
                if (closed || left <= 0) {
                    return Optional.empty();
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** The number of lines read so far; pass it to {@link #await} to wait only for lines that come later. */
    public synchronized int size() {
        return lines.size();
    }

    /** Waits until the stream has ended (the process closed it), at most {@code timeout}. */
    public void join(Duration timeout) throws InterruptedException {
        pump.join(timeout);
    }

    /** One line of output and its 0-based index. */
    public record Line(int index, String text) {
    }
}
