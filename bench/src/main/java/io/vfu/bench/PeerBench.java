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
 * offset 0 of its first readable BAR, found by DEVICE_GET_REGION_INFO).
 *
 * <p>Rules: the sides alternate which goes first (ours on even runs, the peer on odd ones), so a drift in a
 * shared machine's load falls on both alike; every figure is the median over the runs; a ratio is ours / the
 * peer's, taken per run and its median reported (above 1: we are slower). Our server is started here with the
 * usual server options; the peer is only connected to, never started or stopped.
 */
final class PeerBench {

    /** Config space (VFU_PCI_DEV_CFG_REGION_IDX in libvfio-user, VFIO_PCI_CONFIG_REGION_INDEX in VFIO). */
    private static final int CONFIG = SyncClient.REGION_CONFIG;

    private PeerBench() {
    }

    /** One server as the client sees it: where it listens and which BAR register (if any) it reads. */
    private record Target(String name, Path socket, OptionalInt bar, long barOffset) {
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
        Path sock = work.resolve("ours.sock");
        Path gcLog = work.resolve("gc-peer-bench.log");
        Path log = work.resolve("server.log");
        Files.deleteIfExists(gcLog);
        List<String> opts = new ArrayList<>(o.serverJvmOptions());
        opts.add(GcLog.options(gcLog));
        int n = o.runs();
        Timing[] ours = new Timing[n];
        Timing[] peer = new Timing[n];
        Peer probe;
        try (ServerProcess srv = ServerProcess.start(ServerProcess.command(o.serverJar(), opts),
                List.of("--socket", sock.toString()), log, 60)) {
            probe = probe(o.peerSocket());
            // Rule: the BAR read is measured on both sides or on neither, so the sides see the same sequence.
            Target us = new Target("ours", sock, probe.bar().isPresent() ? OptionalInt.of(SyncClient.REGION_BAR0)
                    : OptionalInt.empty(), ServerBench.BAR0_ID);
            Target them = new Target("peer", o.peerSocket(), probe.bar(), 0);
            for (int i = 0; i < n; i++) {
                if (i % 2 == 0) {
                    ours[i] = measure(us, o);
                    peer[i] = measure(them, o);
                } else {
                    peer[i] = measure(them, o);
                    ours[i] = measure(us, o);
                }
            }
        }
        r.put("peer_pci_id", probe.pciId(), "vendor:device read from the peer's config space");
        r.put("peer_bar", probe.bar().isPresent() ? probe.bar().getAsInt() : -1,
                "the peer's BAR the BAR figures read at offset 0 (-1: none readable, no BAR figures)");
        putLatency(r, "cfgread", ours, peer, false, "REGION_READ 4 B of config space at 0, synchronous");
        if (probe.bar().isPresent()) {
            putLatency(r, "barread", ours, peer, true, "REGION_READ 4 B at offset 0 of a BAR (ours: BAR0 ID)");
        }
        GcLog pauses = GcLog.parse(gcLog); // complete: our server has exited
        r.put("ours_gc_pauses", pauses.pauses(), "GC pauses in our server's life (all runs, warm-ups included)");
        r.put("ours_gc_pause_max_ms", pauses.maxMillis());
        r.put("load_avg_1m_end", Bench.loadAverage());
        if (o.workDir() == null) {
            for (Path p : List.of(sock, gcLog, log, work)) {
                Files.deleteIfExists(p);
            }
        }
        return r;
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
     * Our figures under {@code name}, the peer's under {@code peer_name}, and the per-run ratios ours / peer for
     * p50 and p99; each value the median of the runs.
     */
    private static void putLatency(Results r, String name, Timing[] ours, Timing[] peer, boolean bar, String note) {
        int n = ours.length;
        double[][] us = new double[4][n];
        double[][] them = new double[4][n];
        double[] r50 = new double[n];
        double[] r99 = new double[n];
        for (int i = 0; i < n; i++) {
            Stats a = bar ? ours[i].bar() : ours[i].cfg();
            Stats b = bar ? peer[i].bar() : peer[i].cfg();
            fill(us, i, a);
            fill(them, i, b);
            r50[i] = (double) a.p50() / b.p50();
            r99[i] = (double) a.p99() / b.p99();
        }
        put(r, name, us, "ours: " + note);
        put(r, "peer_" + name, them, "the peer, same client and counts");
        r.put("ratio_" + name + "_p50_vs_peer", Stats.median(r50), "ours / peer, per run (above 1: ours slower)");
        r.put("ratio_" + name + "_p99_vs_peer", Stats.median(r99));
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
