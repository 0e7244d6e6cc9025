package io.vfu.it.blk;

import java.util.List;

/**
 * What the perf-mode guest measures, each figure the median of {@code runs} runs in one boot: sequential 1 MiB
 * O_DIRECT writes then reads over the first {@code regionMib} MiB (after one untimed write that allocates the
 * region in the image), {@code qd1Ops} 4 KiB random reads one at a time (latency p50/p99) and {@code qd32Ops}
 * 4 KiB random reads kept 32 deep with Linux AIO (IOPS).
 */
public record BlkPerfPlan(int regionMib, int runs, int qd1Ops, int qd32Ops) {
    /** About 10 s of measuring under TCG on QEMU's device (2 shared cores). */
    public static final BlkPerfPlan DEFAULT = new BlkPerfPlan(64, 5, 3000, 16000);
    /** A few seconds, for checking that every path works. */
    public static final BlkPerfPlan SMOKE = new BlkPerfPlan(16, 1, 200, 1000);

    public BlkPerfPlan {
        if (regionMib < 1 || runs < 1 || runs > 15 || qd1Ops < 100 || qd32Ops < 32) {
            throw new IllegalArgumentException("region >= 1 MiB, 1..15 runs, >= 100 QD1 and >= 32 QD32 reads: "
                    + regionMib + " MiB, " + runs + " runs, " + qd1Ops + ", " + qd32Ops);
        }
    }

    /** Kernel command-line words for the perf mode. */
    public List<String> kernelArgs() {
        return List.of("vfublk.mode=perf", "vfublk.perf_mib=" + regionMib, "vfublk.runs=" + runs,
                "vfublk.qd1_ops=" + qd1Ops, "vfublk.qd32_ops=" + qd32Ops);
    }
}
