package io.vfu.bench;

import io.vfu.transport.nativeio.EventFd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The harness: the floor (C and Java, the lower is the yardstick) and every server figure, each repeated
 * {@code runs} times with the floor measured inside the same run, reported as medians; ratios are taken per
 * run and their median reported.
 */
final class Bench {

    private final BenchOptions o;

    Bench(BenchOptions options) {
        this.o = options;
    }

    Results run() throws Exception {
        Path work = o.workDir() != null ? Files.createDirectories(o.workDir())
                : Files.createTempDirectory("vfu-bench");
        Results r = new Results();
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_avg_1m_start", loadAverage(), "1-minute load average when the run started");
        r.put("smoke", o.smoke());
        r.put("runs", o.runs());
        if (!o.gcOnly()) {
            serverFigures(r, work);
        }
        if (o.gc()) {
            gcSection(r, work);
        }
        r.put("load_avg_1m_end", loadAverage());
        if (o.workDir() == null) {
            Files.deleteIfExists(log(work));
            Files.deleteIfExists(work);
        }
        return r;
    }

    /** Every figure of the main table: the floors, the latency server, append, scale and start-up. */
    private void serverFigures(Results r, Path work) throws Exception {
        Optional<CFloor> c = CFloor.build(o.cacheDir().toAbsolutePath());
        List<String> server = ServerProcess.command(o.serverJar(), o.serverJvmOptions());
        Path sock = work.resolve("bench.sock");
        int n = o.runs();
        double[] floorC = new double[n], floorJ = new double[n], floorP50 = new double[n], floorP90 = new double[n],
                floorP99 = new double[n], floorMax = new double[n], oneway = new double[n];
        double[][] cfg = new double[5][n], bar0 = new double[5][n];
        double[] posted = new double[n], barrier = new double[n], piped = new double[n], irq50 = new double[n],
                irq99 = new double[n];
        double[] rCfg = new double[n], rBar0 = new double[n], rPosted = new double[n], rIrq = new double[n];
        double[] allocRead = new double[n], allocPosted = new double[n], allocWrite = new double[n],
                allocMulti = new double[n], allocMsix = new double[n], allocIms = new double[n],
                allocScrape = new double[n];
        // The latency server serves metrics on a free loopback port: the allocation phase scrapes it.
        // Its GC log shows whether the latency figures contain collector pauses.
        Path gcLog = work.resolve("gc-latency.log");
        Files.deleteIfExists(gcLog);
        List<String> logged = ServerProcess.command(o.serverJar(),
                withOption(o.serverJvmOptions(), GcLog.options(gcLog)));
        try (ServerProcess srv = ServerProcess.start(logged,
                List.of("--socket", sock.toString(), "--metrics-port", "0"), log(work), 60);
             MetricsScraper scraper = new MetricsScraper(srv.metricsUri()
                     .orElseThrow(() -> new IOException("the server's ready line names no metrics endpoint")))) {
            for (int i = 0; i < n; i++) {
                FloorResult fc = c.isPresent() ? c.get().run(o.iterations()) : null;
                FloorResult fj = JavaFloor.run(work, o.childWarmup(), o.iterations());
                FloorResult f = fc != null && fc.rtt().p50() <= fj.rtt().p50() ? fc : fj;
                floorC[i] = fc != null ? fc.rtt().p50() / 1e3 : Double.NaN;
                floorJ[i] = fj.rtt().p50() / 1e3;
                floorP50[i] = f.rtt().p50() / 1e3;
                floorP90[i] = f.rtt().p90() / 1e3;
                floorP99[i] = f.rtt().p99() / 1e3;
                floorMax[i] = f.rtt().max() / 1e3;
                oneway[i] = f.onewayMsgsPerSec();
                try (SyncClient client = SyncClient.connect(sock); EventFd efd = EventFd.create()) {
                    ServerBench b = new ServerBench(client);
                    b.checkDevice();
                    put(cfg, i, b.roundTrips(SyncClient.REGION_CONFIG, ServerBench.CFG_ID, o.warmup(), o.iterations()));
                    put(bar0, i, b.roundTrips(SyncClient.REGION_BAR0, ServerBench.BAR0_ID, o.warmup(), o.iterations()));
                    b.posted(o.warmup());
                    ServerBench.Posted p = b.posted(o.postedWrites());
                    posted[i] = p.msgsPerSec();
                    barrier[i] = p.barrierNanos() / 1e3;
                    b.pipelined(32, o.warmup());
                    piped[i] = b.pipelined(32, o.pipelinedReads());
                    b.armVector0(efd);
                    Stats irq = b.irqLatency(efd, o.warmup(), o.irqIterations());
                    irq50[i] = irq.p50() / 1e3;
                    irq99[i] = irq.p99() / 1e3;
                    b.disableMsix();
                    AllocationBench.Result a = AllocationBench.run(b, scraper, efd, new AllocationBench.Counts(
                            o.allocReads(), o.allocPostedWrites(), o.allocInterrupts(), o.warmup()));
                    allocRead[i] = a.bytesPerRead();
                    allocPosted[i] = a.bytesPerPostedWrite();
                    allocWrite[i] = a.bytesPerWrite();
                    allocMulti[i] = a.bytesPerWriteMulti();
                    allocMsix[i] = a.bytesPerIrqEventfd();
                    allocIms[i] = a.bytesPerIrqPostedWrite();
                    allocScrape[i] = a.scrapeBytes();
                }
                rCfg[i] = cfg[0][i] / floorP50[i];
                rBar0[i] = bar0[0][i] / floorP50[i];
                rPosted[i] = posted[i] / oneway[i];
                rIrq[i] = irq50[i] / floorP50[i];
            }
            r.put("floor_source", Stats.median(floorC) <= Stats.median(floorJ) ? "c" : "java",
                    "the lower of the two floors, per run");
            r.put("floor_c_p50_us", Stats.median(floorC), "gcc -O2 floor.c, socketpair + fork");
            r.put("floor_java_p50_us", Stats.median(floorJ), "JDK SocketChannel, two JVMs");
            r.put("floor_p50_us", Stats.median(floorP50), "24-byte ping-pong between two processes");
            r.put("floor_p90_us", Stats.median(floorP90));
            r.put("floor_p99_us", Stats.median(floorP99));
            r.put("floor_max_us", Stats.median(floorMax));
            r.put("floor_oneway_msgs_per_s", Stats.median(oneway), "24-byte messages streamed one way");
            putLatency(r, "cfgread", cfg, "REGION_READ 4 B of config space, synchronous");
            putLatency(r, "bar0read", bar0, "REGION_READ 4 B of BAR0, synchronous");
            r.put("posted_writes", o.postedWrites());
            r.put("posted_write_msgs_per_s", Stats.median(posted), "No_reply REGION_WRITE to BAR0 SCRATCH[0]");
            r.put("posted_barrier_us", Stats.median(barrier), "the read after the posted writes (median of runs)");
            r.put("posted_barrier_max_us", max(barrier), "worst barrier over the runs (p99 needs >= 100 runs)");
            r.put("pipeline_window", 32);
            r.put("pipelined_reads_per_s", Stats.median(piped), "config reads, 32 in flight");
            r.put("irq_latency_p50_us", Stats.median(irq50), "doorbell sendmsg -> MSI-X eventfd readable");
            r.put("irq_latency_p99_us", Stats.median(irq99));
            r.put("server_alloc_bytes_per_read", Stats.median(allocRead),
                    "server heap bytes per sync config read (vfu_jvm_allocated_bytes_total, scrape subtracted)");
            r.put("server_alloc_bytes_per_posted_write", Stats.median(allocPosted),
                    "the same per posted BAR0 write");
            r.put("server_alloc_bytes_per_write", Stats.median(allocWrite), "the same per BAR0 write with a reply");
            r.put("server_alloc_bytes_per_write_multi", Stats.median(allocMulti),
                    "the same per posted REGION_WRITE_MULTI of two writes");
            r.put("server_alloc_bytes_per_irq_eventfd", Stats.median(allocMsix),
                    "the same per MSI-X interrupt by eventfd (its posted doorbell included)");
            r.put("server_alloc_bytes_per_irq_posted_write", Stats.median(allocIms),
                    "the same per IMS interrupt sent as a posted DMA_WRITE (its posted doorbell included)");
            r.put("server_alloc_scrape_bytes", Stats.median(allocScrape), "what one scrape allocates (subtracted)");
        }
        GcLog pauses = GcLog.parse(gcLog); // complete: the server has exited
        r.put("latency_server_gc_pauses", pauses.pauses(), "GC pauses in the latency server's life (all runs)");
        r.put("latency_server_gc_pause_max_ms", pauses.maxMillis());
        r.put("latency_server_gc_pause_total_ms", pauses.totalMillis());
        appendFigures(r, server, work);
        scaleAndStartup(r, server, work);
        r.put("ratio_cfgread_p50_vs_floor", Stats.median(rCfg), "target <= 1.25");
        r.put("ratio_bar0read_p50_vs_floor", Stats.median(rBar0));
        r.put("ratio_posted_vs_floor_oneway", Stats.median(rPosted), "target >= 0.5");
        r.put("ratio_irq_p50_vs_floor", Stats.median(rIrq), "target <= 1.5");
        r.put("ratio_append_last_vs_first", r.number("append_last100_us") / r.number("append_first100_us"),
                "target <= 1.2");
        r.put("devices_rss_under_1gib", r.number("devices_rss_mib") < 1024, "target: 1000 devices < 1 GiB");
        r.put("startup_under_500ms", r.number("startup_ms") < 500,
                "target < 500 ms for startup_ms, i.e. started the way bin/vfu-server does (AOT cache)");
        if (o.workDir() == null) {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(gcLog);
        }
    }

    private void gcSection(Results r, Path work) throws Exception {
        long t0 = System.nanoTime();
        Map<String, Results> columns = new GcBench(o, work).run();
        r.put("gc_section_s", (System.nanoTime() - t0) / 1e9, "time the collector comparison took");
        r.section("gc", String.format("Garbage collectors: %d latency server(s) each (%d reads, %d posted writes "
                + "each), one %d-device scale server", o.gcRounds(), o.iterations(), o.postedWrites(), o.gcDevices()),
                columns);
    }

    private void appendFigures(Results r, List<String> server, Path work) throws Exception {
        int reps = Math.max(1, Math.min(o.runs(), 3));
        int max = o.appendVectors();
        int w = Math.min(100, max / 2);
        int nr = o.noResizeVectors();
        int wn = Math.min(100, nr / 2);
        double[] first = new double[reps], last = new double[reps], firstSum = new double[reps],
                lastSum = new double[reps];
        double nrFirst;
        double nrLast;
        Path sock = work.resolve("irq.sock");
        try (ServerProcess srv = ServerProcess.start(server, List.of("--socket", sock.toString()), log(work), 60);
             SyncClient client = SyncClient.connect(sock)) {
            ServerBench b = new ServerBench(client);
            b.append(max); // warm-up
            for (int i = 0; i < reps; i++) {
                long[] cost = b.append(max);
                first[i] = ServerBench.medianTimesCountMicros(cost, 0, w);
                last[i] = ServerBench.medianTimesCountMicros(cost, max - w, max);
                firstSum[i] = ServerBench.sumMicros(cost, 0, w);
                lastSum[i] = ServerBench.sumMicros(cost, max - w, max);
            }
            long[] cost = b.noResize(nr);
            nrFirst = ServerBench.medianTimesCountMicros(cost, 0, wn);
            nrLast = ServerBench.medianTimesCountMicros(cost, nr - wn, nr);
        } finally {
            Files.deleteIfExists(sock);
        }
        r.put("append_vectors", max);
        r.put("append_window", w, "appends in each window");
        r.put("append_first100_us", Stats.median(first), "SET_IRQS start=N count=1, N = 0..99: 100 x median");
        r.put("append_last100_us", Stats.median(last), "N = max-100..max-1: 100 x median");
        r.put("append_first100_sum_us", Stats.median(firstSum), "the plain sums (hiccups included)");
        r.put("append_last100_sum_us", Stats.median(lastSum));
        r.put("noresize_vectors", nr);
        r.put("noresize_first100_us", nrFirst, "disable + re-send 0..N-1 (16 fds/message), N = 1..100: 100 x median");
        r.put("noresize_last100_us", nrLast, "the same for the last 100 growth steps");
    }

    private void scaleAndStartup(Results r, List<String> server, Path work) throws Exception {
        StartupBench.Result st = StartupBench.run(server, work, o.cacheDir().toAbsolutePath(), log(work), o.runs());
        ScaleBench.Result s = ScaleBench.run(server, work, o.devices(), o.readsPerDevice(), 2);
        r.put("devices", s.devices());
        r.put("devices_rss_mib", s.rssMib(), "server RSS with every device's client connected");
        r.put("devices_read_p50_us", s.reads().p50() / 1e3, "config reads, all devices round-robin, 2 threads");
        r.put("devices_read_p99_us", s.reads().p99() / 1e3);
        r.put("devices_startup_ms", s.startupMs(), "start to ready with all devices listening (no archive)");
        r.put("devices_idle_series_per_device", (double) s.idleScrape().series() / s.devices(),
                "series in one scrape before any client connected, per device (process-wide ones included)");
        r.put("devices_idle_scrape_kib", s.idleScrape().bytes() / 1024.0, "that scrape's body, plain text");
        r.put("devices_idle_scrape_gzip_kib", s.idleScrape().gzipBytes() / 1024.0,
                "the same scrape as served with Accept-Encoding: gzip");
        r.put("startup_ms", st.aotMs(), "process start -> 'vfu-server ready', one device, as bin/vfu-server starts"
                + " it (JDK 25 AOT cache)" + (st.aotCacheBytes() == 0 ? " - NO CACHE WAS CREATED, so plain" : ""));
        r.put("startup_plain_ms", st.plainMs(), "the same without any application archive or cache");
        r.put("startup_cds_ms", st.cdsMs(), "the same with a dynamic AppCDS archive instead (-XX:SharedArchiveFile)");
        r.put("startup_aot_cache_mib", st.aotCacheBytes() / (1024.0 * 1024.0), "size of the AOT cache");
    }

    private static void put(double[][] into, int run, ServerBench.Timed t) {
        into[0][run] = t.stats().p50() / 1e3;
        into[1][run] = t.stats().p90() / 1e3;
        into[2][run] = t.stats().p99() / 1e3;
        into[3][run] = t.stats().max() / 1e3;
        into[4][run] = t.opsPerSec();
    }

    private static void putLatency(Results r, String name, double[][] v, String note) {
        r.put(name + "_p50_us", Stats.median(v[0]), note);
        r.put(name + "_p90_us", Stats.median(v[1]));
        r.put(name + "_p99_us", Stats.median(v[2]));
        r.put(name + "_max_us", Stats.median(v[3]));
        r.put(name + "_ops_per_s", Stats.median(v[4]));
    }

    private static List<String> withOption(List<String> options, String option) {
        List<String> all = new java.util.ArrayList<>(options);
        all.add(option);
        return all;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double d : v) {
            m = Math.max(m, d);
        }
        return m;
    }

    /** The servers' shared stderr log; a temp work directory is left behind (with it) only on failure. */
    private static Path log(Path work) {
        return work.resolve("server.log");
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
