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
 * The garbage collector, chosen by measurement: the latency server run under each collector in turn (one run
 * each, fewer samples than the main figures), with the same JVM options otherwise. Per collector: config-read
 * latency, posted-write rate, RSS at ready and after the load (one device), RSS of a many-device server, and
 * the stop-the-world pauses its GC log shows for the latency server's whole life.
 */
final class GcBench {

    /** Collector name (JSON key) and the option that selects it. ZGC is generational only since JDK 24. */
    static final Map<String, String> COLLECTORS = collectors();

    /** A collector choice among the user's server options: replaced by the collector under test. */
    private static final Pattern GC_OPTION = Pattern.compile("-XX:[+-]Use\\w*GC|-XX:[+-]ZGenerational");

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

    /** Every collector in turn; the figures of each as one column. */
    Map<String, Results> run() throws Exception {
        Map<String, Results> columns = new LinkedHashMap<>();
        for (Map.Entry<String, String> c : COLLECTORS.entrySet()) {
            columns.put(c.getKey(), measure(c.getKey(), c.getValue()));
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

    private Results measure(String name, String collectorOption) throws Exception {
        Results r = new Results();
        List<String> opts = jvmOptions(collectorOption);
        Path gcLog = work.resolve("gc-" + name + ".log");
        Files.deleteIfExists(gcLog);
        List<String> logged = new ArrayList<>(opts);
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
                cfg = b.roundTrips(SyncClient.REGION_CONFIG, ServerBench.CFG_ID, o.warmup(), o.iterations());
                b.posted(o.warmup());
                posted = b.posted(o.postedWrites());
            }
            rssLoaded = srv.rssBytes() / MIB;
        } finally {
            Files.deleteIfExists(sock);
        }
        // The server has exited (close waits for it), so its log is complete.
        GcLog pauses = GcLog.parse(gcLog);
        ScaleBench.Result scale = ScaleBench.run(ServerProcess.command(o.serverJar(), opts), work, o.gcDevices(),
                o.readsPerDevice(), 2);
        if (o.workDir() == null) {
            Files.deleteIfExists(gcLog);
        }
        r.put("option", collectorOption);
        r.put("cfgread_p50_us", cfg.stats().p50() / 1e3, "REGION_READ 4 B of config space, one run");
        r.put("cfgread_p99_us", cfg.stats().p99() / 1e3);
        r.put("cfgread_max_us", cfg.stats().max() / 1e3);
        r.put("posted_write_msgs_per_s", posted.msgsPerSec(), "No_reply REGION_WRITEs then a barrier read");
        r.put("gc_pauses", pauses.pauses(), "stop-the-world pauses in the GC log (start to exit)");
        r.put("gc_pause_max_ms", pauses.maxMillis());
        r.put("gc_pause_total_ms", pauses.totalMillis());
        r.put("startup_ms", startup, "start -> ready line, one device");
        r.put("rss_ready_mib", rssReady, "one device, at the ready line");
        r.put("rss_loaded_mib", rssLoaded, "one device, after the reads and posted writes");
        r.put("devices", scale.devices(), "devices of the scale server");
        r.put("devices_rss_mib", scale.rssMib(), "its RSS with every device's client connected");
        r.put("devices_read_p99_us", scale.reads().p99() / 1e3, "config reads over all devices, 2 threads");
        return r;
    }

    private static final double MIB = 1024.0 * 1024.0;
}
