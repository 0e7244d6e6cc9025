package io.vfu.it.perf;

import java.util.ArrayList;
import java.util.List;

/**
 * What the perf mode of the guest bench measures on each device, every figure the median of {@code runs} runs
 * in one boot (each run measures the three devices, ours, edu and the floor, back to back, rotating which goes
 * first): {@code reads} timed reads of a plain register, {@code writes} timed writes, {@code irqs}
 * doorbell-to-eventfd round trips, {@code copies} 4 KiB DMA copies on ours and {@code eduCopies} on edu (whose
 * engine waits 100 ms of virtual time before each transfer, two per copy; the floor has no DMA engine).
 * {@code shmOffset} >= 0 also times reads of our register at that offset of BAR {@code shmBar}, which must lie in
 * an mmap'd (shared-memory) area; -1 skips that figure.
 */
public record PerfPlan(int runs, int reads, int writes, int irqs, int copies, int eduCopies, int shmBar,
                       long shmOffset) {
    /** About 20-40 s of measuring under TCG on a loaded 2-core machine. */
    public static final PerfPlan DEFAULT = new PerfPlan(5, 2000, 2000, 500, 200, 5, 0, -1);
    /** A few seconds, for checking that every path works. */
    public static final PerfPlan SMOKE = new PerfPlan(2, 200, 200, 50, 20, 2, 0, -1);

    public PerfPlan {
        if (runs < 1 || runs > 16 || reads < 10 || writes < 10 || irqs < 10 || copies < 1 || eduCopies < 1
                || shmBar < 0 || shmBar > 5 || shmOffset < -1) {
            throw new IllegalArgumentException("1..16 runs, >= 10 reads, writes and interrupts, >= 1 copy, BAR 0..5: "
                    + this);
        }
    }

    /** The same plan reading the shared-memory register at {@code offset} of BAR {@code bar}. */
    public PerfPlan withShmRegister(int bar, long offset) {
        return new PerfPlan(runs, reads, writes, irqs, copies, eduCopies, bar, offset);
    }

    /** Kernel command-line words for the perf mode. */
    public List<String> kernelArgs() {
        List<String> a = new ArrayList<>(List.of("vfubench.mode=perf", "vfubench.runs=" + runs,
                "vfubench.reads=" + reads, "vfubench.writes=" + writes, "vfubench.irqs=" + irqs,
                "vfubench.copies=" + copies, "vfubench.edu_copies=" + eduCopies));
        if (shmOffset >= 0) {
            a.add("vfubench.shm_bar=" + shmBar);
            a.add("vfubench.shm_off=0x" + Long.toHexString(shmOffset));
        }
        return List.copyOf(a);
    }
}
