package io.vfu.bench;

import io.vfu.it.Provisioned;
import io.vfu.it.blk.BlkRun;
import io.vfu.it.perf.IvshmemEcho;
import io.vfu.it.perf.PerfGuest;
import io.vfu.it.perf.PerfPlan;
import io.vfu.it.perf.PerfReport;
import io.vfu.it.perf.SoakPlan;
import io.vfu.it.perf.SoakReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * {@code --guest}: issue 15's guest-side figures. One Debian guest ({@link PerfGuest}) boots with our default
 * device, served by vfu-server in its own process over vfio-user-pci, QEMU's in-process {@code edu}, and the
 * floor: QEMU's {@code ivshmem-doorbell} whose only peer is {@link IvshmemEcho}, a host process that answers each
 * doorbell with an interrupt, so its interrupt figure is the out-of-process path with no device protocol. The
 * guest program binds all three to vfio-pci and measures them the same way ({@link PerfPlan}: each figure the
 * median of its runs within that boot). Reported per figure: ours, edu's, the floor's, ours / edu (above 1 is
 * slower for latencies, faster for copies per second), ours / floor (interrupts only) and floor / edu.
 * {@code --soak} boots the same guest, without the floor, to fire {@link SoakPlan} interrupts on ours instead.
 */
final class GuestBench {
    static final Duration PERF_LIMIT = Duration.ofMinutes(10);
    static final String DEVICE = "dev0";

    private final BenchOptions options;
    private final Path work;
    /** The initramfs with the guest program, and the floor's echo binary: built at the first boot that needs them. */
    private Path initrd;
    private Path echoBinary;

    GuestBench(BenchOptions options, Path work) {
        this.options = options;
        this.work = work;
    }

    /** The soak's line and the figures behind it. */
    record Soak(SoakReport report, Results results, double deviceDeliveredOnUnmask) {
        /** One line: fired, received, delivered on unmask (guest-counted and device-counted), duration, verdict. */
        String summary() {
            return String.format("soak: fired=%d received=%d delivered_on_unmask=%d (device %.0f) duration_s=%.1f "
                            + "vectors=%d ims_entries=%d appended=%d reprograms=%d %s", report.fired(), report.received(),
                    report.deliveredOnUnmask(), deviceDeliveredOnUnmask, report.millis() / 1e3,
                    report.json().path("vectors").asInt(), report.json().path("ims_entries").asInt(),
                    report.json().path("appended").asLong(), report.json().path("reprograms").asLong(),
                    report.passed() ? "PASS" : "FAIL " + report.error());
        }
    }

    Results perf() throws Exception {
        PerfPlan plan = plan();
        Results r = new Results();
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_avg_1m_start", Bench.loadAverage(), "1-minute load average when the run started");
        r.put("smoke", options.smoke());
        r.put("guest_vcpus", 1, "TCG; QEMU, its vCPU thread and our server share the host's cores");
        r.put("runs_per_boot", plan.runs(), "each figure is the median of these runs within one boot");
        // Rule: our device is measured as a user gets it by default (registers trapped, so QEMU posts its writes),
        // and again in a second boot with published registers, whose mapped read the goal compares with edu's
        // trapped one (and whose synchronous writes the other figures show); each boot compares with its own edu.
        AfterBoot after = new AfterBoot();
        BlkRun run = boot(plan.kernelArgs(), PERF_LIMIT, after, true, false);
        PerfReport report = PerfReport.of(run);
        BlkRun publishedRun = boot(plan.kernelArgs(), PERF_LIMIT, new AfterBoot(), true, true);
        PerfReport published = PerfReport.of(publishedRun);
        r.put("boot_s", run.wall().toMillis() / 1e3, "QEMU start to guest power-off");
        r.put("boot_published_s", publishedRun.wall().toMillis() / 1e3, "the second boot, registers published");
        r.put("guest_measure_s", report.seconds(), "the perf mode's own time in the guest");
        r.put("guest_clock_read_ns", report.clockNanos(), "cost of one CLOCK_MONOTONIC read in the guest: every "
                + "latency includes one");
        r.put("load_avg_1m_end", Bench.loadAverage());
        r.put("floor_echoes", after.floorEchoes, "doorbells the floor's host echo answered: the guest's "
                + plan.runs() * plan.irqs() + " timed ones and 1 untimed one");
        Results vfu = figures(report, "vfu");
        Results vfuPublished = figures(published, "vfu");
        Results edu = figures(report, "edu");
        Results floor = figures(report, "floor");
        Results ratio = new Results();
        for (String f : PerfReport.FIGURES) {
            ratio.put(key(f), report.figure("vfu", f) / report.figure("edu", f));
        }
        OptionalDouble shm = published.optional("vfu", "shm_read_p50_ns");
        if (shm.isPresent()) {
            // Rule: the goal compares an mmap'd read of ours with edu's trapped register read, both
            // measured in the same boot.
            ratio.put("shm_read_p50_us", shm.getAsDouble() / published.figure("edu", "read_p50_ns"));
            ratio.put("shm_read_p99_us", published.figure("vfu", "shm_read_p99_ns")
                    / published.figure("edu", "read_p99_ns"));
        }
        Results vfuFloor = new Results();
        for (String f : List.of("irq_p50_ns", "irq_p99_ns")) {
            // Rule: the floor bounds the interrupt path only; its read and write are traps QEMU serves itself.
            vfuFloor.put(key(f), report.figure("vfu", f) / report.figure("floor", f));
        }
        Results floorEdu = new Results();
        for (String f : PerfReport.FLOOR_FIGURES) {
            floorEdu.put(key(f), report.figure("floor", f) / report.figure("edu", f));
        }
        Map<String, Results> columns = new LinkedHashMap<>();
        columns.put("vfu", vfu);
        columns.put("vfu_pub", vfuPublished);
        columns.put("edu", edu);
        columns.put("floor", floor);
        columns.put("vfu/edu", ratio);
        columns.put("vfu/floor", vfuFloor);
        columns.put("floor/edu", floorEdu);
        r.section("guest", "from the guest: our device as configured by default (vfu) and with publishRegisters "
                + "(vfu_pub, a second boot), QEMU's in-process edu and the floor (ivshmem-doorbell answered by a host "
                + "echo process: the out-of-process interrupt path, no protocol); ratios are a / b"
                + (shm.isPresent() ? "; shm_read ratios are vfu_pub's mapped read against edu's trapped read" : ""),
                columns);
        return r;
    }

    Soak soak() throws Exception {
        SoakPlan plan = options.smoke() ? SoakPlan.SMOKE : SoakPlan.DEFAULT;
        if (options.soakInterrupts() != null) {
            plan = plan.withInterrupts(options.soakInterrupts());
        }
        Results r = new Results();
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_avg_1m_start", Bench.loadAverage());
        // About 100 us per interrupt under TCG on a loaded machine, plus the boot; generous, but bounded.
        Duration limit = Duration.ofMinutes(5).plusMillis(plan.interrupts() / 2);
        AfterBoot after = new AfterBoot();
        BlkRun run = boot(plan.kernelArgs(), limit, after, false, true);
        SoakReport report = SoakReport.of(run);
        r.put("load_avg_1m_end", Bench.loadAverage());
        for (String k : List.of("fired", "received", "delivered_on_unmask", "msix_fired", "ims_fired", "masks",
                "reprograms", "appended", "rounds", "vectors", "ims_entries", "device_msix_delivered",
                "device_ims_delivered")) {
            r.put(k, report.json().path(k).asLong());
        }
        r.put("device_delivered_on_unmask", after.onUnmask, "the server's vfu_interrupts_delivered_on_unmask_total "
                + "for IMS, scraped after the guest powered off");
        r.put("duration_s", report.millis() / 1e3, "the soak in the guest, boot excluded");
        r.put("passed", report.passed());
        if (!report.passed()) {
            r.put("error", report.error().isEmpty() ? "fired != received" : report.error());
        }
        return new Soak(report, r, after.onUnmask);
    }

    private PerfPlan plan() {
        PerfPlan base = options.smoke() ? PerfPlan.SMOKE : PerfPlan.DEFAULT;
        base = new PerfPlan(Math.min(16, options.runs()), base.reads(), base.writes(), base.irqs(), base.copies(),
                base.eduCopies(), 0, -1);
        if (options.shmRegister() != null) {
            String[] p = options.shmRegister().split(":", 2);
            base = base.withShmRegister(Integer.parseInt(p[0]), Long.decode(p[1]));
        }
        return base;
    }

    /** What the server's metrics and the floor's echo said after the boot. */
    private static final class AfterBoot {
        double onUnmask = Double.NaN;
        long floorEchoes = -1;
    }

    /**
     * One boot of the guest with a fresh server (its own process, metrics on an ephemeral port; with
     * {@code publish}, our device publishes its registers) and, with {@code floor}, the floor device and its
     * host echo.
     */
    private BlkRun boot(List<String> kernelArgs, Duration limit, AfterBoot after, boolean floor, boolean publish)
            throws Exception {
        Provisioned provisioned = Provisioned.load();
        // Rule: the guest program and the echo are compiled once per bench, whatever the number of boots.
        if (initrd == null) {
            initrd = PerfGuest.initramfs(provisioned, work);
        }
        Path socket = work.resolve("bench.sock");
        Files.deleteIfExists(socket);
        if (!floor) {
            return boot(PerfGuest.command(provisioned, initrd, socket, kernelArgs), socket, limit, after, publish);
        }
        Path floorSocket = work.resolve("floor.sock");
        Files.deleteIfExists(floorSocket);
        // Rule: the echo listens before QEMU starts; QEMU reads its first messages while it realizes the device.
        if (echoBinary == null) {
            echoBinary = IvshmemEcho.build(work.resolve("floor-echo"));
        }
        try (IvshmemEcho echo = IvshmemEcho.start(echoBinary, floorSocket, PerfGuest.FLOOR_VECTORS)) {
            BlkRun run = boot(PerfGuest.command(provisioned, initrd, socket, floorSocket, kernelArgs), socket, limit,
                    after, publish);
            after.floorEchoes = echo.stop();
            return run;
        }
    }

    private BlkRun boot(List<String> qemu, Path socket, Duration limit, AfterBoot after, boolean publish)
            throws Exception {
        // Rule: each boot keeps its own config and server log (the published boot is the second one).
        String boot = publish ? "-published" : "";
        Path config = Files.writeString(work.resolve("bench" + boot + ".json"), PerfGuest.serverConfig(DEVICE, socket,
                publish));
        Path log = work.resolve("server-guest" + boot + ".log");
        try (ServerProcess server = ServerProcess.start(ServerProcess.command(options.serverJar(),
                options.serverJvmOptions()), List.of("--config", config.toString(), "--metrics-port", "0"), log, 60)) {
            BlkRun run = BlkRun.boot(qemu, limit);
            if (server.metricsUri().isPresent()) {
                after.onUnmask = GuestMetrics.imsDeliveredOnUnmask(server.metricsUri().get(), DEVICE);
            }
            return run;
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; the server log ends: " + lastLine(log), e);
        }
    }

    private static String lastLine(Path log) {
        try {
            return Files.readAllLines(log).stream().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("(empty)");
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** The guest's figure name in the bench's unit: nanoseconds become microseconds. */
    private static String key(String figure) {
        return figure.endsWith("_ns") ? figure.substring(0, figure.length() - 3) + "_us" : figure;
    }

    private static Results figures(PerfReport p, String device) {
        Results r = new Results();
        r.put("read_p50_us", p.figure(device, "read_p50_ns") / 1e3, "a plain BAR0 register (ours: ID, edu: ID, "
                + "floor: IVPosition)");
        r.put("read_p99_us", p.figure(device, "read_p99_ns") / 1e3);
        r.put("write_p50_us", p.figure(device, "write_p50_ns") / 1e3, "ours: SCRATCH (posted; synchronous in "
                + "vfu_pub), edu: liveness, floor: Interrupt Mask");
        r.put("write_p99_us", p.figure(device, "write_p99_ns") / 1e3);
        r.put("irq_p50_us", p.figure(device, "irq_p50_ns") / 1e3, "doorbell write to the vfio eventfd read "
                + "(ours: MSI-X vector 0, edu: MSI via its raise register, floor: Doorbell to the echo, MSI-X 0)");
        r.put("irq_p99_us", p.figure(device, "irq_p99_ns") / 1e3);
        OptionalDouble dma = p.optional(device, "dma_copies_per_s");
        if (dma.isEmpty()) {
            // Rule: a device without a DMA engine (the floor) has no DMA figures rather than made-up ones.
            return r;
        }
        r.put("dma_copies_per_s", dma.getAsDouble(), "4 KiB copies one at a time, each to its "
                + "interrupt (edu: 2 transfers, each started 100 ms after its command by design)");
        r.put("dma_p50_us", p.figure(device, "dma_p50_ns") / 1e3);
        OptionalDouble shm = p.optional(device, "shm_read_p50_ns");
        if (shm.isPresent()) {
            r.put("shm_read_p50_us", shm.getAsDouble() / 1e3, "our STATUS as published in mapped BAR2 memory "
                    + "(or --shm-register)");
            r.put("shm_read_p99_us", p.figure(device, "shm_read_p99_ns") / 1e3);
        }
        return r;
    }
}
