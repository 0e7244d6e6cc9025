package io.vfu.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command line of {@code bin/vfu-bench} (see BENCH.md). {@code --smoke} shrinks every count so the whole run
 * takes seconds; the figures are then only a check that every path works.
 */
record BenchOptions(boolean smoke, boolean json, int runs, Path serverJar, List<String> serverJvmOptions,
                    int devices, Path cacheDir, Path workDir, boolean gc, boolean gcOnly, int gcDevices,
                    boolean guestBlk, boolean guest, boolean soak, Long soakInterrupts, String shmRegister,
                    Path peerSocket) {

    static final String USAGE = """
            usage: vfu-bench [--smoke] [--json] [--runs N] [--devices N] [--server-jar JAR]
                             [--server-jvm-opt OPT]... [--cache DIR] [--work DIR] [--no-gc | --gc-only]
                             [--gc-devices N] [--guest-blk]
                             [--guest [--shm-register BAR:OFFSET] | --guest --soak [--soak-interrupts N]]
                             [--peer-socket PATH]
              --smoke           everything very briefly (CI); figures are not meaningful
              --json            print one JSON object instead of the table
              --runs N          repeated runs per figure; each figure is their median (default 5, smoke 2)
              --devices N       devices in the scale test (default 1000, smoke 8)
              --server-jar JAR  run the server from this jar (default: the harness class path)
              --server-jvm-opt  a JVM option for the server process (repeatable; default -XX:+UseSerialGC)
              --cache DIR       where the C floor is compiled and the CDS archive and AOT cache kept
                                (default target/bench-cache)
              --work DIR        where sockets and config files go (default: a new temp directory)
              --no-gc           skip the section that runs the server under each garbage collector
              --gc-only         only that section (e.g. to compare collectors under a given -Xmn)
              --gc-devices N    devices of that section's scale server (default 100, smoke 4)
              --guest-blk       only the virtio-blk guest comparison: the Debian guest boots twice, with QEMU's
                                in-process virtio-blk-pci and with ours over vfio-user-pci, and measures both
                                (--smoke: tiny counts); needs the provisioned QEMU and guest
              --guest           only the guest bench: one Debian guest with our device (vfio-user-pci), QEMU's
                                edu and the floor (ivshmem-doorbell answered by a host echo process), all driven
                                from the guest's vfio-pci; MMIO read/write, doorbell-to-interrupt and 4 KiB DMA
                                figures, ours/edu, ours/floor and floor/edu (--smoke: tiny counts)
              --shm-register BAR:OFFSET
                                also time reads of our register at OFFSET of BAR (an mmap'd, shared-memory area)
              --soak            with --guest: the interrupt soak instead (10^6 MSI-X + IMS interrupts under
                                append/mask/re-program/unmask; --smoke: 20,000); exits 1 unless fired == received
              --soak-interrupts N
                                interrupts of the soak
              --peer-socket PATH
                                only the peer comparison: our server (started here) and another vfio-user server
                                already listening on PATH (e.g. libvfio-user's gpio sample), config-space reads and
                                a BAR read (if the peer has a readable BAR) by the same client, the servers taking
                                turns to go first run by run; each one's figures and ours / peer's; also a
                                second server of ours with --poll-max-us 0 (figures nopoll_*)
            """;

    static BenchOptions parse(String... args) {
        boolean smoke = false;
        boolean json = false;
        Integer runs = null;
        Integer devices = null;
        Integer gcDevices = null;
        Path jar = null;
        List<String> jvm = new ArrayList<>();
        Path cache = Path.of("target", "bench-cache");
        Path work = null;
        boolean gc = true;
        boolean gcOnly = false;
        boolean guestBlk = false;
        boolean guest = false;
        boolean soak = false;
        Long soakInterrupts = null;
        String shm = null;
        Path peer = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--smoke" -> smoke = true;
                case "--json" -> json = true;
                case "--runs" -> runs = positive(value(args, ++i, a), a);
                case "--devices" -> devices = positive(value(args, ++i, a), a);
                case "--server-jar" -> jar = Path.of(value(args, ++i, a));
                case "--server-jvm-opt" -> jvm.add(value(args, ++i, a));
                case "--cache" -> cache = Path.of(value(args, ++i, a));
                case "--work" -> work = Path.of(value(args, ++i, a));
                case "--no-gc" -> gc = false;
                case "--gc-only" -> gcOnly = true;
                case "--gc-devices" -> gcDevices = positive(value(args, ++i, a), a);
                case "--guest-blk" -> guestBlk = true;
                case "--guest" -> guest = true;
                case "--soak" -> soak = true;
                case "--soak-interrupts" -> soakInterrupts = (long) positive(value(args, ++i, a), a);
                case "--shm-register" -> shm = shmRegister(value(args, ++i, a));
                case "--peer-socket" -> peer = Path.of(value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (gcOnly && !gc) {
            throw new IllegalArgumentException("--no-gc and --gc-only exclude each other");
        }
        if ((soak || soakInterrupts != null || shm != null) && !guest) {
            throw new IllegalArgumentException("--soak, --soak-interrupts and --shm-register go with --guest");
        }
        if (guest && guestBlk) {
            throw new IllegalArgumentException("--guest and --guest-blk exclude each other");
        }
        if (peer != null && (guest || guestBlk || gcOnly)) {
            throw new IllegalArgumentException("--peer-socket excludes --guest, --guest-blk and --gc-only");
        }
        if (jvm.isEmpty()) {
            jvm.add("-XX:+UseSerialGC");
        }
        return new BenchOptions(smoke, json, runs != null ? runs : smoke ? 2 : 5, jar, List.copyOf(jvm),
                devices != null ? devices : smoke ? 8 : 1000, cache, work, gc, gcOnly,
                gcDevices != null ? gcDevices : smoke ? 4 : 100, guestBlk, guest, soak, soakInterrupts, shm,
                peer);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    /** {@code BAR:OFFSET}, the offset decimal or 0x-hex; returned as given once it parses. */
    private static String shmRegister(String v) {
        String[] p = v.split(":", 2);
        try {
            int bar = Integer.parseInt(p[0]);
            long off = Long.decode(p.length == 2 ? p[1] : "");
            if (bar < 0 || bar > 5 || off < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shm-register wants BAR:OFFSET (BAR 0..5, e.g. 0:0x1000), got " + v);
        }
        return v;
    }

    private static int positive(String v, String option) {
        int n = number(v, option);
        if (n <= 0) {
            throw new IllegalArgumentException(option + " must be positive");
        }
        return n;
    }

    private static int number(String v, String option) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a number: " + v);
        }
    }

    /** Counts for one run: full or smoke. */
    int iterations() {
        return smoke ? 500 : 20_000;
    }

    int warmup() {
        return smoke ? 200 : 5_000;
    }

    /** Warm-up round trips for a freshly started child JVM (its loop must reach C2 before timing). */
    int childWarmup() {
        return smoke ? 200 : 20_000;
    }

    int postedWrites() {
        return smoke ? 2_000 : 100_000;
    }

    int pipelinedReads() {
        return smoke ? 2_000 : 100_000;
    }

    int irqIterations() {
        return smoke ? 200 : 10_000;
    }

    int appendVectors() {
        return smoke ? 128 : 2048;
    }

    int noResizeVectors() {
        return smoke ? 64 : 2048;
    }

    int readsPerDevice() {
        return smoke ? 5 : 20;
    }

    /** Synchronous config reads in the allocation phase (after the warm figures of each run). */
    int allocReads() {
        return smoke ? 2_000 : 50_000;
    }

    /** Posted writes in the allocation phase. */
    int allocPostedWrites() {
        return smoke ? 2_000 : 100_000;
    }

    /** Interrupts of each kind (MSI-X by eventfd, IMS by posted write) in the allocation phase. */
    int allocInterrupts() {
        return smoke ? 2_000 : 50_000;
    }

    /** Latency servers per collector in the collector comparison (in ABBA order). */
    int gcRounds() {
        return smoke ? 1 : 2;
    }
}
