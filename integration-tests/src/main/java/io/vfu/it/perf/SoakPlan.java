package io.vfu.it.perf;

import java.util.List;

/**
 * The interrupt soak of the guest bench: at least {@code interrupts} interrupts on our device over MSI-X vectors
 * and {@code imsEntries} IMS entries, starting with {@code startVectors} MSI-X vectors and appending up to
 * {@code maxVectors} during the run, while IMS entries are masked, re-programmed and unmasked (see the guest's
 * {@code soak.c}).
 */
public record SoakPlan(long interrupts, int startVectors, int maxVectors, int imsEntries) {
    /** Issue 15's figure: 10^6 interrupts. */
    public static final SoakPlan DEFAULT = new SoakPlan(1_000_000, 16, 64, 8);
    /** A few seconds. */
    public static final SoakPlan SMOKE = new SoakPlan(20_000, 16, 64, 8);

    public SoakPlan {
        if (interrupts < 1 || imsEntries < 2 || imsEntries > 64 || startVectors < imsEntries + 2
                || maxVectors < startVectors || maxVectors > PerfGuest.MSIX_VECTORS) {
            throw new IllegalArgumentException("interrupts >= 1, 2..64 IMS entries, entries + 2 <= start <= max <= "
                    + PerfGuest.MSIX_VECTORS + ": " + this);
        }
    }

    /** The same plan with {@code n} interrupts. */
    public SoakPlan withInterrupts(long n) {
        return new SoakPlan(n, startVectors, maxVectors, imsEntries);
    }

    public List<String> kernelArgs() {
        return List.of("vfubench.mode=soak", "vfubench.soak=" + interrupts, "vfubench.soak_start=" + startVectors,
                "vfubench.soak_max=" + maxVectors, "vfubench.soak_ims=" + imsEntries);
    }
}
