package io.vfu.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A guest program (the guest suite's C sources in {@code integration-tests/src/main/guest-vfu}, the virtio-blk
 * and bench programs beside it), compiled with the host's {@code gcc -static} at test time, so no binary is ever
 * committed. A static binary runs in the busybox
 * initramfs, which has no C library.
 */
public final class GuestProgram {
    private GuestProgram() {
    }

    /** Compiles every {@code .c} file of {@code sources} into {@code target}; fails with gcc's message. */
    public static Path compile(Path sources, Path target) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                target.toString()));
        try (Stream<Path> files = Files.list(sources)) {
            files.filter(f -> f.toString().endsWith(".c")).sorted().forEach(f -> cmd.add(f.toString()));
        }
        if (cmd.size() == 8) {
            throw new IOException("no C sources in " + sources);
        }
        ProcessResult r = ProcessResult.run(cmd, Duration.ofMinutes(2));
        if (r.exitCode() != 0) {
            throw new IOException("gcc failed (" + r.exitCode() + "):\n" + r.stdout() + r.stderr());
        }
        return target;
    }
}
