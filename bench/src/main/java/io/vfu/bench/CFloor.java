package io.vfu.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The C floor ({@code floor.c}, shipped as a resource): compiled once with {@code gcc -O2} into the cache
 * directory, then run as its own pair of processes (socketpair + fork).
 */
final class CFloor {

    private final Path binary;

    private CFloor(Path binary) {
        this.binary = binary;
    }

    /** Builds the program into {@code cacheDir} unless an up-to-date build is there; empty without gcc. */
    static Optional<CFloor> build(Path cacheDir) throws IOException, InterruptedException {
        byte[] source;
        try (InputStream in = CFloor.class.getResourceAsStream("floor.c")) {
            if (in == null) {
                throw new IOException("floor.c resource missing");
            }
            source = in.readAllBytes();
        }
        Files.createDirectories(cacheDir);
        Path src = cacheDir.resolve("floor.c");
        Path bin = cacheDir.resolve("floor");
        if (Files.isExecutable(bin) && Files.exists(src) && java.util.Arrays.equals(Files.readAllBytes(src), source)) {
            return Optional.of(new CFloor(bin));
        }
        Files.write(src, source);
        Process p;
        try {
            p = new ProcessBuilder("gcc", "-O2", "-o", bin.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException noGcc) {
            return Optional.empty();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("gcc failed: " + out);
        }
        return Optional.of(new CFloor(bin));
    }

    /** Runs {@code iterations} round trips (and 5x as many one-way messages). */
    FloorResult run(int iterations) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(binary.toString(), Integer.toString(iterations))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("floor exited with " + p.exitValue() + ": " + out);
        }
        String[] f = out.split("\\s+");
        if (f.length != 5) {
            throw new IOException("unexpected floor output: " + out);
        }
        Stats s = new Stats(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
        return new FloorResult(s, Double.parseDouble(f[4]));
    }
}
