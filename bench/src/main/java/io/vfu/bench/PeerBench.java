package io.vfu.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * {@code --peer-socket}: our server against another vfio-user server that is already listening (e.g.
 * libvfio-user's gpio sample), both measured by the same {@link SyncClient} in the same run. Each run makes one
 * connection to each side and times, after the same warm-up, the config-space read (REGION_READ of 4 bytes at
 * offset 0) and, when the peer has a readable BAR, a 4-byte BAR read (ours: BAR0's ID register; the peer's:
 * offset 0 of its first readable BAR, found by DEVICE_GET_REGION_INFO). A third target is measured the same way:
 * a second server of ours with {@code --poll-max-us 0}, that is without the session polling our server does by
 * default, its figures under {@code nopoll_}, so the run shows what polling buys.
 *
 * <p>Rules: the targets take turns going first (run i starts with target i mod their count and goes on in the
 * order ours, peer, nopoll), so a drift in a shared machine's load falls on all alike; every figure is the median
 * over the runs; a ratio is ours (or nopoll) / the peer's, taken per run and its median reported (above 1: we are
 * slower). Our servers are started here with the usual server options, once for all runs; the peer is only
 * connected to, never started or stopped.
 */
final class PeerBench {

    /** Config space (VFU_PCI_DEV_CFG_REGION_IDX in libvfio-user, VFIO_PCI_CONFIG_REGION_INDEX in VFIO). */
    private static final int CONFIG = SyncClient.REGION_CONFIG;

    /** The second server of ours: session polling off. */
    private static final List<String> NO_POLLING = List.of("--poll-max-us", "0");

    /** Where each target sits in the list: ours first, the peer second, then the server without polling. */
    private static final int OURS = 0;
    private static final int PEER = 1;

    private PeerBench() {
    }

    /**
     * One server as the client sees it: its name in errors, the prefix of its keys, how its figures' notes name
     * it, where it listens and which BAR register (if any) it reads.
     */
    private record Target(String name, String prefix, String label, Path socket, OptionalInt bar, long barOffset) {
    }

    /** A server of ours started here: its socket, GC log and stderr log in the work directory. */
    private record Ours(Path socket, Path gcLog, Path log) {

        /** The files of the server named by {@code suffix} ("" for the first, whose names predate the second). */
        static Ours in(Path work, String suffix) {
            return new Ours(work.resolve("ours" + suffix + ".sock"), work.resolve("gc-peer-bench" + suffix + ".log"),
                    work.resolve("server" + suffix + ".log"));
        }

        /** Starts it with the bench's server JVM options plus its own GC log, and {@code args} after the socket. */
        ServerProcess start(BenchOptions o, List<String> args) throws IOException {
            Files.deleteIfExists(gcLog);
            List<String> jvm = new ArrayList<>(o.serverJvmOptions());
            jvm.add(GcLog.options(gcLog));
            List<String> all = new ArrayList<>(List.of("--socket", socket.toString()));
            all.addAll(args);
            return ServerProcess.start(ServerProcess.command(o.serverJar(), jvm), all, log, 60);
        }
    }

    /** One connection's figures: the config read and, if measured, the BAR read. */
    private record Timing(Stats cfg, Stats bar) {
    }

    /** What the probe learnt of the peer: its PCI vendor:device and its first readable BAR. */
    private record Peer(String pciId, OptionalInt bar) {
    }

    static Results run(BenchOptions o, Path work) throws Exception {
        Results r = new Results();
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_avg_1m_start", Bench.loadAverage(), "1-minute load average when the run started");
        r.put("smoke", o.smoke());
        r.put("runs", o.runs());
        r.put("peer_socket", o.peerSocket().toString());

        Files.createDirectories(work);
        Ours ours = Ours.in(work, "");
        Ours nopoll = Ours.in(work, "-nopoll");
        String nopollLabel = "ours with " + String.join(" ", NO_POLLING);
        List<Target> targets = new ArrayList<>();
        Timing[][] timings;
        Peer probe;
        try (ServerProcess srv = ours.start(o, List.of());
             ServerProcess nopollSrv = nopoll.start(o, NO_POLLING)) {
            probe = probe(o.peerSocket());
            // Rule: the BAR read is measured on every target or on none, so all see the same sequence.
            OptionalInt ourBar = probe.bar().isPresent() ? OptionalInt.of(SyncClient.REGION_BAR0)
                    : OptionalInt.empty();
            targets.add(new Target("ours", "", "ours", ours.socket(), ourBar, ServerBench.BAR0_ID));
            targets.add(new Target("peer", "peer_", "the peer", o.peerSocket(), probe.bar(), 0));
            targets.add(new Target("nopoll", "nopoll_", nopollLabel, nopoll.socket(), ourBar, ServerBench.BAR0_ID));
            timings = measureAll(targets, o);
        }
        r.put("peer_pci_id", probe.pciId(), "vendor:device read from the peer's config space");
        r.put("peer_bar", probe.bar().isPresent() ? probe.bar().getAsInt() : -1,
                "the peer's BAR the BAR figures read at offset 0 (-1: none readable, no BAR figures)");
        putLatency(r, "cfgread", targets, timings, false, "REGION_READ 4 B of config space at 0, synchronous");
        if (probe.bar().isPresent()) {
            putLatency(r, "barread", targets, timings, true, "REGION_READ 4 B at offset 0 of a BAR (ours: BAR0 ID)");
        }
        GcLog pauses = GcLog.parse(ours.gcLog()); // complete: our servers have exited
        r.put("ours_gc_pauses", pauses.pauses(), "GC pauses in our server's life (all runs, warm-ups included)");
        r.put("ours_gc_pause_max_ms", pauses.maxMillis());
        GcLog nopollPauses = GcLog.parse(nopoll.gcLog());
        r.put("nopoll_gc_pauses", nopollPauses.pauses(), "the same for " + nopollLabel);
        r.put("nopoll_gc_pause_max_ms", nopollPauses.maxMillis());
        r.put("load_avg_1m_end", Bench.loadAverage());
        if (o.workDir() == null) {
            for (Ours s : List.of(ours, nopoll)) {
                for (Path p : List.of(s.socket(), s.gcLog(), s.log())) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(work);
        }
        return r;
    }

    /** Every run, one connection to each target; the result is indexed by target, then run. */
    private static Timing[][] measureAll(List<Target> targets, BenchOptions o) throws IOException {
        int k = targets.size();
        Timing[][] timings = new Timing[k][o.runs()];
        for (int i = 0; i < o.runs(); i++) {
            // Rule: run i starts with target i mod k and goes on in list order, so over k runs each target goes
            // first once and no target always goes first.
            for (int j = 0; j < k; j++) {
                int t = (i + j) % k;
                timings[t][i] = measure(targets.get(t), o);
            }
        }
        return timings;
    }

    /**
     * Connects to the peer once: VERSION, a config read (its vendor:device), then DEVICE_GET_REGION_INFO for
     * BAR0..BAR5 and a trial read of the first that is readable. A peer that fails the config read fails the run.
     */
    private static Peer probe(Path socket) throws IOException {
        try (SyncClient c = SyncClient.connect(socket)) {
            int id = c.read4(CONFIG, ServerBench.CFG_ID);
            String pciId = String.format("%04x:%04x", id & 0xFFFF, id >>> 16);
            for (int bar = SyncClient.REGION_BAR0; bar <= 5; bar++) {
                try {
                    if (c.regionInfo(bar).readable4()) {
                        c.read4(bar, 0);
                        return new Peer(pciId, OptionalInt.of(bar));
                    }
                } catch (SyncClient.ErrorReply e) {
                    // Rule: only an error reply means "not readable" (the connection stays usable); any other
                    // failure ends the probe, rather than trying the other BARs on a dead socket.
                }
            }
            return new Peer(pciId, OptionalInt.empty());
        }
    }

    /** One connection: the warm-up and the timed config reads, then the same for the BAR if the target has one. */
    private static Timing measure(Target t, BenchOptions o) throws IOException {
        try (SyncClient c = SyncClient.connect(t.socket())) {
            ServerBench b = new ServerBench(c);
            Stats cfg = b.roundTrips(CONFIG, ServerBench.CFG_ID, o.warmup(), o.iterations()).stats();
            Stats bar = t.bar().isPresent()
                    ? b.roundTrips(t.bar().getAsInt(), t.barOffset(), o.warmup(), o.iterations()).stats() : null;
            return new Timing(cfg, bar);
        } catch (IOException e) {
            throw new IOException(t.name() + " server at " + t.socket() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Each target's figures under its prefix and {@code name} (ours: no prefix), then, for every target but the
     * peer, the per-run ratios it / peer for p50 and p99 ({@code ratio_<prefix><name>_p50_vs_peer}); each value
     * the median of the runs. {@code timings} is indexed by target, then run.
     */
    private static void putLatency(Results r, String name, List<Target> targets, Timing[][] timings, boolean bar,
                                   String note) {
        for (int t = 0; t < targets.size(); t++) {
            double[][] v = new double[4][timings[t].length];
            for (int i = 0; i < v[0].length; i++) {
                fill(v, i, stats(timings[t][i], bar));
            }
            Target target = targets.get(t);
            put(r, target.prefix() + name, v, t == OURS ? target.label() + ": " + note
                    : target.label() + ", same client and counts");
        }
        for (int t = 0; t < targets.size(); t++) {
            if (t == PEER) {
                continue;
            }
            int n = timings[t].length;
            double[] r50 = new double[n];
            double[] r99 = new double[n];
            for (int i = 0; i < n; i++) {
                Stats a = stats(timings[t][i], bar);
                Stats b = stats(timings[PEER][i], bar);
                r50[i] = (double) a.p50() / b.p50();
                r99[i] = (double) a.p99() / b.p99();
            }
            Target target = targets.get(t);
            String key = "ratio_" + target.prefix() + name;
            r.put(key + "_p50_vs_peer", Stats.median(r50),
                    target.label() + " / peer, per run (above 1: " + target.name() + " slower)");
            r.put(key + "_p99_vs_peer", Stats.median(r99));
        }
    }

    private static Stats stats(Timing t, boolean bar) {
        return bar ? t.bar() : t.cfg();
    }

    private static void fill(double[][] into, int run, Stats s) {
        into[0][run] = s.p50() / 1e3;
        into[1][run] = s.p90() / 1e3;
        into[2][run] = s.p99() / 1e3;
        into[3][run] = s.max() / 1e3;
    }

    private static void put(Results r, String name, double[][] v, String note) {
        r.put(name + "_p50_us", Stats.median(v[0]), note);
        r.put(name + "_p90_us", Stats.median(v[1]));
        r.put(name + "_p99_us", Stats.median(v[2]));
        r.put(name + "_max_us", Stats.median(v[3]));
    }
}
