package io.vfu.bench;

import io.vfu.it.Provisioned;
import io.vfu.it.blk.BlkBackend;
import io.vfu.it.blk.BlkDisk;
import io.vfu.it.blk.BlkGuest;
import io.vfu.it.blk.BlkPerf;
import io.vfu.it.blk.BlkPerfPlan;
import io.vfu.it.blk.BlkRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --guest-blk}: issue 13's performance anchor. The virtio-blk guest ({@link BlkGuest}) boots twice back
 * to back on a fresh image of the same size, first with QEMU's in-process virtio-blk-pci ({@code cache=none}),
 * then with our virtio-blk ({@code directIo}) served by vfu-server in its own process over vfio-user-pci; each
 * boot runs the perf mode once ({@link BlkPerfPlan}: every figure the median of its runs within that boot).
 * Reported per figure: both values and the ratio ours / QEMU's (above 1 is better for MB/s and IOPS, worse for
 * latency). If our side fails, QEMU's figures are still printed with the error, and the exit status is 1.
 */
final class GuestBlkBench {
    static final Duration BOOT_LIMIT = Duration.ofMinutes(5);
    static final String SERIAL = "VFU-BENCH";
    static final int QUEUES = 2;

    private GuestBlkBench() {
    }

    static Results run(BenchOptions o, Path work) throws Exception {
        Provisioned provisioned = Provisioned.load();
        BlkPerfPlan plan = o.smoke() ? BlkPerfPlan.SMOKE : BlkPerfPlan.DEFAULT;
        Path initrd = BlkGuest.initramfs(provisioned, work);
        long size = (long) plan.regionMib() << 20;
        Results r = new Results();
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("load_avg_1m_start", Bench.loadAverage(), "1-minute load average when the run started");
        r.put("smoke", o.smoke());
        r.put("guest_vcpus", BlkGuest.CPUS, "TCG; QEMU's I/O thread and our server share the host's cores");
        r.put("queues", QUEUES, "virtqueues offered = used (the guest uses min(queues, vCPUs))");
        r.put("region_mib", plan.regionMib(), "the image size and the region every figure reads and writes");
        r.put("runs_per_boot", plan.runs(), "each figure is the median of these runs within one boot");

        BlkDisk qemuDisk = new BlkDisk(work.resolve("qemu.img"), size, SERIAL, QUEUES).create();
        BlkRun qemuRun = BlkRun.boot(BlkGuest.command(provisioned, initrd, BlkBackend.QEMU, qemuDisk, null,
                plan.kernelArgs()), BOOT_LIMIT);
        BlkPerf qemu = BlkPerf.of(qemuRun);
        Files.deleteIfExists(qemuDisk.image());
        r.put("qemu_boot_s", qemuRun.wall().toMillis() / 1e3, "QEMU start to guest power-off");

        BlkPerf ours = null;
        BlkDisk vfuDisk = new BlkDisk(work.resolve("vfu.img"), size, SERIAL, QUEUES).create();
        Path socket = work.resolve("blk.sock");
        Path config = Files.writeString(work.resolve("blk.json"), BlkBackend.serverConfig("blk0", vfuDisk, socket));
        try (ServerProcess server = ServerProcess.start(ServerProcess.command(o.serverJar(), o.serverJvmOptions()),
                List.of("--config", config.toString(), "--metrics-port", "0"), work.resolve("server.log"), 60)) {
            BlkRun vfuRun = BlkRun.boot(BlkGuest.command(provisioned, initrd, BlkBackend.VFU, vfuDisk, socket,
                    plan.kernelArgs()), BOOT_LIMIT);
            ours = BlkPerf.of(vfuRun);
            r.put("vfu_boot_s", vfuRun.wall().toMillis() / 1e3, "the same with our device");
        } catch (Exception e) {
            r.put("vfu_error", String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString())
                    .replaceAll(": \\[.*", "") + "; the server log ends: " + lastLine(work.resolve("server.log")),
                    "our side failed");
        } finally {
            Files.deleteIfExists(vfuDisk.image());
        }
        r.put("load_avg_1m_end", Bench.loadAverage());

        Map<String, Results> columns = new LinkedHashMap<>();
        columns.put("qemu", figures(qemu));
        if (ours != null) {
            columns.put("vfu", figures(ours));
            Results ratio = new Results();
            for (String f : BlkPerf.FIGURES) {
                ratio.put(f, ours.figure(f) / qemu.figure(f));
            }
            columns.put("vfu/qemu", ratio);
        }
        r.section("guest_blk", "virtio-blk in the guest: QEMU's in-process device vs ours (ratio = ours / QEMU's)",
                columns);
        return r;
    }

    private static String lastLine(Path log) {
        try {
            return Files.readAllLines(log).stream().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("(empty)");
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static Results figures(BlkPerf p) {
        Results r = new Results();
        r.put("seq_write_mbps", p.figure("seq_write_mbps"), "1 MiB O_DIRECT writes, 10^6 B/s");
        r.put("seq_read_mbps", p.figure("seq_read_mbps"), "1 MiB O_DIRECT reads");
        r.put("randread_qd1_p50_us", p.figure("randread_qd1_p50_us"), "4 KiB random reads, one in flight");
        r.put("randread_qd1_p99_us", p.figure("randread_qd1_p99_us"));
        r.put("randread_qd1_iops", p.figure("randread_qd1_iops"), "1 / mean QD1 latency");
        r.put("randread_qd32_iops", p.figure("randread_qd32_iops"), "4 KiB random reads, 32 in flight (Linux AIO)");
        r.put("max_sectors_kb", p.figure("max_sectors_kb"), "the guest's request size limit (queue/max_sectors_kb)");
        r.put("max_segments", p.figure("max_segments"), "segments per request (from the device's SEG_MAX)");
        r.put("max_segment_size", p.figure("max_segment_size"), "bytes per segment (from the device's SIZE_MAX)");
        r.put("guest_perf_s", p.figure("seconds"), "the perf mode's own time in the guest");
        return r;
    }
}
