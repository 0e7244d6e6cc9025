package io.vfu.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The garbage collector, chosen by measurement: the latency server run under each collector in turn, with the
 * same JVM options otherwise. Per collector: config-read latency, posted-write rate, RSS at ready and after
 * the load (one device), the stop-the-world pauses its GC log shows, and the RSS of a many-device server.
 *
 * <p>Fewer samples than the main figures: {@link BenchOptions#gcRounds} latency servers per collector, the
 * rounds in ABBA order (serial..zgc, then zgc..serial) so a drift in a shared machine's load falls on every
 * collector alike; each latency figure is the median of the rounds (their mean, for two), the worst case and
 * the pauses are taken over all of them. One scale server per collector.
 */
final class GcBench {

    /** Collector name (JSON key) and the option that selects it. ZGC is generational only since JDK 24. */
    static final Map<String, String> COLLECTORS = collectors();

    /** A collector choice among the user's server options: replaced by the collector under test. */
    private static final Pattern GC_OPTION = Pattern.compile("-XX:[+-]Use\\w*GC|-XX:[+-]ZGenerational");

    private static final double MIB = 1024.0 * 1024.0;

    private final BenchOptions o;
    private final Path work;

    GcBench(BenchOptions options, Path work) {
        this.o = options;
        this.work = work;
    }

    private static Map<String, String> collectors() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("serial", "-XX:+UseSerialGC");
        m.put("parallel", "-XX:+UseParallelGC");
        m.put("g1", "-XX:+UseG1GC");
        m.put("zgc", "-XX:+UseZGC");
        return m;
    }

    /** One latency server's figures. */
    private record Round(Stats cfg, double postedPerSec, GcLog pauses, double startupMs, double rssReadyMib,
                         double rssLoadedMib) {
    }

    /** Every collector; the figures of each as one column. */
    Map<String, Results> run() throws Exception {
        List<String> names = new ArrayList<>(COLLECTORS.keySet());
        Map<String, List<Round>> rounds = new LinkedHashMap<>();
        names.forEach(n -> rounds.put(n, new ArrayList<>()));
        for (int i = 0; i < o.gcRounds(); i++) {
            List<String> order = i % 2 == 0 ? names : names.reversed();
            for (String name : order) {
                rounds.get(name).add(latency(name, COLLECTORS.get(name)));
            }
        }
        Map<String, Results> columns = new LinkedHashMap<>();
        for (String name : names) {
            ScaleBench.Result scale = ScaleBench.run(ServerProcess.command(o.serverJar(),
                    jvmOptions(COLLECTORS.get(name))), work, o.gcDevices(), o.readsPerDevice(), 2);
            columns.put(name, figures(COLLECTORS.get(name), rounds.get(name), scale));
        }
        return columns;
    }

    /** The server's JVM options with the collector replaced: {@code o.serverJvmOptions()} minus any GC choice. */
    List<String> jvmOptions(String collectorOption) {
        List<String> opts = new ArrayList<>();
        opts.add(collectorOption);
        for (String opt : o.serverJvmOptions()) {
            if (!GC_OPTION.matcher(opt).matches()) {
                opts.add(opt);
            }
        }
        return opts;
    }

    private Round latency(String name, String collectorOption) throws IOException {
        Path gcLog = work.resolve("gc-" + name + ".log");
        Files.deleteIfExists(gcLog);
        List<String> logged = new ArrayList<>(jvmOptions(collectorOption));
        logged.add(GcLog.options(gcLog));
        Path sock = work.resolve("gc.sock");
        ServerBench.Timed cfg;
        ServerBench.Posted posted;
        double rssReady;
        double rssLoaded;
        double startup;
        try (ServerProcess srv = ServerProcess.start(ServerProcess.command(o.serverJar(), logged),
                List.of("--socket", sock.toString()), work.resolve("server.log"), 60)) {
            startup = srv.startupNanos() / 1e6;
            rssReady = srv.rssBytes() / MIB;
            try (SyncClient client = SyncClient.connect(sock)) {
                ServerBench b = new ServerBench(client);
                b.checkDevice();
                // A fresh JVM: as many untimed messages as timed ones first, so both paths are compiled
                // (the main figures' later runs are warmer still; compare collectors within this table).
                b.posted(o.postedWrites());
                cfg = b.roundTrips(SyncClient.REGION_CONFIG, ServerBench.CFG_ID, o.iterations(), o.iterations());
                posted = b.posted(o.postedWrites());
            }
            rssLoaded = srv.rssBytes() / MIB;
        } finally {
            Files.deleteIfExists(sock);
        }
        // The server has exited (close waits for it), so its log is complete.
        GcLog pauses = GcLog.parse(gcLog);
        if (o.workDir() == null) {
            Files.deleteIfExists(gcLog);
        }
        return new Round(cfg.stats(), posted.msgsPerSec(), pauses, startup, rssReady, rssLoaded);
    }

    private static Results figures(String option, List<Round> rounds, ScaleBench.Result scale) {
        Results r = new Results();
        r.put("option", option);
        r.put("cfgread_p50_us", median(rounds, x -> x.cfg().p50() / 1e3), "REGION_READ 4 B of config space");
        r.put("cfgread_p99_us", median(rounds, x -> x.cfg().p99() / 1e3));
        r.put("cfgread_max_us", rounds.stream().mapToDouble(x -> x.cfg().max() / 1e3).max().orElseThrow(),
                "worst over the rounds");
        r.put("posted_write_msgs_per_s", median(rounds, Round::postedPerSec), "No_reply REGION_WRITEs + barrier");
        r.put("gc_pauses", rounds.stream().mapToInt(x -> x.pauses().pauses()).sum(),
                "stop-the-world pauses in the GC logs, all rounds (start to exit)");
        r.put("gc_pause_max_ms", rounds.stream().mapToDouble(x -> x.pauses().maxMillis()).max().orElseThrow());
        r.put("gc_pause_total_ms", rounds.stream().mapToDouble(x -> x.pauses().totalMillis()).sum());
        r.put("startup_ms", median(rounds, Round::startupMs), "start -> ready line, one device");
        r.put("rss_ready_mib", median(rounds, Round::rssReadyMib), "one device, at the ready line");
        r.put("rss_loaded_mib", median(rounds, Round::rssLoadedMib), "one device, after the reads and posted writes");
        r.put("devices", scale.devices(), "devices of the scale server (one run)");
        r.put("devices_rss_mib", scale.rssMib(), "its RSS with every device's client connected");
        r.put("devices_read_p99_us", scale.reads().p99() / 1e3, "config reads over all devices, 2 threads");
        return r;
    }

    private static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> f) {
        return Stats.median(rounds.stream().mapToDouble(f).toArray());
    }
}
