package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Pause lines as HotSpot 25 writes them with {@code -Xlog:gc,gc+phases=info:...:uptime,tags}. */
class GcLogTest {

    @Test
    void serialAndParallelPausesAreCountedWithTheirUnits() {
        GcLog log = GcLog.parse(List.of(
                "[0.003s][gc] Using Serial",
                "[0.061s][gc] GC(0) Pause Young (Allocation Failure) 69M->1M(247M) 0.522ms",
                "[0.062s][gc,phases] GC(1) Phase 1: Mark live objects 1.100ms",
                "[0.495s][gc] GC(1) Pause Full (System.gc()) 43M->1M(247M) 4.005ms",
                "[9.000s][gc] GC(2) Pause Full (Ergonomics) 900M->800M(1000M) 1.250s"));
        assertEquals(3, log.pauses());
        assertEquals(1250.0, log.maxMillis(), 1e-9);
        assertEquals(0.522 + 4.005 + 1250.0, log.totalMillis(), 1e-9);
    }

    @Test
    void g1PhasesAndConcurrentCyclesAreNotPauses() {
        GcLog log = GcLog.parse(List.of(
                "[0.034s][gc,phases] GC(0)   Pre Evacuate Collection Set: 0.07ms",
                "[0.034s][gc,phases] GC(0)   Evacuate Collection Set: 0.40ms",
                "[0.035s][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 153M->1M(256M) 0.538ms",
                "[0.040s][gc] GC(1) Concurrent Mark Cycle 12.345ms",
                "[0.041s][gc] GC(1) Pause Remark 5M->5M(256M) 1.200ms"));
        assertEquals(2, log.pauses());
        assertEquals(1.2, log.maxMillis(), 1e-9);
    }

    @Test
    void zgcPausesAndStallsCountButItsCollectionsDoNot() {
        GcLog log = GcLog.parse(List.of(
                "[0.111s][gc] GC(0) Major Collection (Warmup)",
                "[0.714s][gc,phases] GC(17) Y: Pause Mark Start 0.012ms",
                "[0.714s][gc,phases] GC(17) Y: Pause Mark End 0.008ms",
                "[0.715s][gc,phases] GC(17) Y: Pause Relocate Start 0.005ms",
                "[0.720s][gc] GC(17) Minor Collection (Allocation Rate) 20M(1%)->6M(0%) 0.012s",
                "[0.800s][gc] Allocation Stall (vfu-session) 3.500ms"));
        assertEquals(4, log.pauses());
        assertEquals(3.5, log.maxMillis(), 1e-9);
        assertEquals(0.012 + 0.008 + 0.005 + 3.5, log.totalMillis(), 1e-9);
    }

    @Test
    void noPausesIsZeroNotAnError() {
        GcLog log = GcLog.parse(List.of("[0.003s][gc] Using Serial"));
        assertEquals(new GcLog(0, 0, 0), log);
    }
}
