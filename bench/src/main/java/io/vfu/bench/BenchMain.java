package io.vfu.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point of {@code bin/vfu-bench}; see BENCH.md. */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vfu-bench: " + e.getMessage());
            System.err.print(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.guest()) {
            Path work = options.workDir() != null ? Files.createDirectories(options.workDir())
                    : Files.createTempDirectory("vfu-bench-guest");
            GuestBench bench = new GuestBench(options, work);
            if (options.soak()) {
                GuestBench.Soak soak = bench.soak();
                System.out.print(options.json() ? soak.results().toJson() : soak.summary() + "\n");
                // Rule: fired == received is the only acceptable soak result.
                System.exit(soak.report().passed() ? 0 : 1);
                return;
            }
            Results r = bench.perf();
            System.out.print(options.json() ? r.toJson() : r.toTable());
            return;
        }
        if (options.guestBlk()) {
            Path work = options.workDir() != null ? Files.createDirectories(options.workDir())
                    : Files.createTempDirectory("vfu-bench-blk");
            Results r = GuestBlkBench.run(options, work);
            System.out.print(options.json() ? r.toJson() : r.toTable());
            // Our side failing fails the run, even though QEMU's figures were printed.
            System.exit(r.values().containsKey("vfu_error") ? 1 : 0);
            return;
        }
        if (options.peerSocket() != null) {
            Path work = options.workDir() != null ? Files.createDirectories(options.workDir())
                    : Files.createTempDirectory("vfu-bench-peer");
            Results r = PeerBench.run(options, work);
            System.out.print(options.json() ? r.toJson() : r.toTable());
            return;
        }
        Results r = new Bench(options).run();
        System.out.print(options.json() ? r.toJson() : r.toTable());
    }
}
