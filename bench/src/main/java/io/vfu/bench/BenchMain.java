package io.vfu.bench;

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
        Results r = new Bench(options).run();
        System.out.print(options.json() ? r.toJson() : r.toTable());
    }
}
