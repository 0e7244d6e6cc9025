package io.vfu.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Java floor: the same 24-byte ping-pong as {@code floor.c}, JDK blocking {@link SocketChannel}s on both
 * sides, the echo side in a child JVM ({@link #main}).
 */
final class JavaFloor {

    static final int MSG = 24;

    private JavaFloor() {
    }

    /**
     * Runs {@code warmup} untimed and {@code iterations} timed round trips against a child JVM (a fresh JVM
     * needs the warm-up to compile its loop), then 5x {@code iterations} one-way messages.
     */
    static FloorResult run(Path dir, int warmup, int iterations) throws IOException, InterruptedException {
        Path sock = dir.resolve("jfloor-" + ProcessHandle.current().pid() + ".sock");
        Files.deleteIfExists(sock);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), JavaFloor.class.getName(),
                    sock.toString(), Integer.toString(warmup), Integer.toString(iterations));
            Process child = new ProcessBuilder(cmd).inheritIO().start();
            try (SocketChannel ch = server.accept()) {
                ByteBuffer buf = ByteBuffer.allocateDirect(MSG);
                long[] rtt = new long[iterations];
                for (int i = -warmup; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    writeFully(ch, buf.clear());
                    readFully(ch, buf.clear());
                    if (i >= 0) {
                        rtt[i] = System.nanoTime() - t0;
                    }
                }
                long t0 = System.nanoTime();
                for (int i = 0; i < iterations * 5; i++) {
                    writeFully(ch, buf.clear());
                }
                readFully(ch, buf.clear().limit(1));
                double secs = (System.nanoTime() - t0) / 1e9;
                if (!child.waitFor(30, TimeUnit.SECONDS) || child.exitValue() != 0) {
                    throw new IOException("java floor child failed");
                }
                return new FloorResult(Stats.of(rtt, iterations), iterations * 5 / secs);
            } finally {
                child.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(sock);
        }
    }

    /** The echo side: {@code JavaFloor SOCKET WARMUP ITERATIONS}. */
    public static void main(String[] args) throws IOException {
        int warmup = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(args[0]))) {
            ByteBuffer buf = ByteBuffer.allocateDirect(MSG);
            for (int i = 0; i < warmup + iterations; i++) {
                readFully(ch, buf.clear());
                writeFully(ch, buf.flip());
            }
            for (int i = 0; i < iterations * 5; i++) {
                readFully(ch, buf.clear());
            }
            writeFully(ch, buf.clear().limit(1));
        }
    }

    static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("EOF");
            }
        }
    }

    static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
