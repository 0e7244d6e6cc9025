package io.vfu.it.blk;

import io.vfu.it.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The host's {@code e2fsck -fn} on an image whose filesystem starts at byte 0: forced full check, read-only
 * (answers "no" to every repair). e2fsprogs is a host package of {@code scripts/provision.sh}; its absence is an
 * error, never a skipped check.
 */
public final class E2fsck {
    public static final Path BINARY = Path.of("/usr/sbin/e2fsck");

    private E2fsck() {
    }

    /** Runs the check; exit code 0 means the filesystem is clean. */
    public static ProcessResult check(Path image) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: install e2fsprogs (scripts/provision.sh does)");
        }
        return ProcessResult.run(List.of(BINARY.toString(), "-fn", image.toString()), Duration.ofMinutes(2));
    }
}
