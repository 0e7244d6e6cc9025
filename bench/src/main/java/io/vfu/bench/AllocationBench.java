package io.vfu.bench;

import io.vfu.transport.nativeio.EventFd;
import java.io.IOException;
import java.util.Arrays;

/**
 * Server-side heap allocation per message, measured in the server process: its
 * {@code vfu_jvm_allocated_bytes_total} is scraped before and after each steady-state phase: synchronous config
 * reads, posted BAR0 writes, BAR0 writes with a reply, posted REGION_WRITE_MULTIs, MSI-X interrupts delivered
 * by eventfd and IMS interrupts delivered as posted DMA_WRITEs. What one scrape itself allocates in the server
 * is measured as the difference of back-to-back scrapes (median of three, before and after the phases) and
 * subtracted, so the figure charges messages only for what they cost. Run it after the paths are warm
 * (JIT-compiled), as the figures of the main loop are; the paths the main loop does not time are warmed here.
 */
final class AllocationBench {

    /**
     * Bytes per message or interrupt; {@code scrapeBytes} is what one scrape allocated in the server. Noise (a
     * scrape that allocated a little more or less than the median) can leave a figure slightly below zero when
     * the path allocates nothing. An interrupt's figure includes the posted doorbell write that raised it.
     */
    record Result(double bytesPerRead, double bytesPerPostedWrite, double bytesPerWrite, double bytesPerWriteMulti,
                  double bytesPerIrqEventfd, double bytesPerIrqPostedWrite, long scrapeBytes) {
    }

    /** The counts of one allocation run. */
    record Counts(int reads, int postedWrites, int interrupts, int warmup) {
    }

    private static final int WARM_SCRAPES = 5;
    /** IMS entry the posted-write interrupts use (entry 3, as LAYOUT.md's examples). */
    static final int IMS_ENTRY = 3;

    private AllocationBench() {
    }

    static Result run(ServerBench b, MetricsScraper metrics, EventFd vector0, Counts n) throws IOException {
        // The paths the timed figures do not exercise are warmed first, so every phase is measured compiled.
        b.writes(n.warmup());
        b.postedMulti(n.warmup());
        b.armIms(IMS_ENTRY);
        b.imsInterrupts(IMS_ENTRY, n.warmup());
        // The first scrapes cost more (connection set-up, class loading, the scrape path not yet compiled).
        for (int i = 0; i < WARM_SCRAPES; i++) {
            metrics.allocatedBytes();
        }
        long scrapeBefore = scrapeCost(metrics);
        long before = metrics.allocatedBytes();
        b.reads(SyncClient.REGION_CONFIG, ServerBench.CFG_ID, n.reads());
        long afterReads = metrics.allocatedBytes();
        b.posted(n.postedWrites());
        long afterPosted = metrics.allocatedBytes();
        b.writes(n.reads());
        long afterWrites = metrics.allocatedBytes();
        b.postedMulti(n.postedWrites());
        long afterMulti = metrics.allocatedBytes();
        // SET_IRQS is not an interrupt: vector 0 gets its eventfd before the phase and loses it after.
        b.armVector0(vector0);
        long beforeMsix = metrics.allocatedBytes();
        b.irqLatency(vector0, 0, n.interrupts());
        long afterMsix = metrics.allocatedBytes();
        b.disableMsix();
        long beforeIms = metrics.allocatedBytes();
        int barriers = b.imsInterrupts(IMS_ENTRY, n.interrupts());
        long afterIms = metrics.allocatedBytes();
        // A scrape's cost still drifts a little as its path is compiled: the phases are charged the mean of
        // the cost measured just before and just after them.
        long scrape = (scrapeBefore + scrapeCost(metrics)) / 2;
        double perRead = (double) (afterReads - before - scrape) / n.reads();
        // Phases that end in barrier reads are charged those at the per-read rate just measured.
        double perPosted = (afterPosted - afterReads - scrape - perRead) / n.postedWrites();
        double perWrite = (double) (afterWrites - afterPosted - scrape) / n.reads();
        double perMulti = (afterMulti - afterWrites - scrape - perRead) / n.postedWrites();
        double perMsix = (double) (afterMsix - beforeMsix - scrape) / n.interrupts();
        double perIms = (afterIms - beforeIms - scrape - barriers * perRead) / n.interrupts();
        return new Result(perRead, perPosted, perWrite, perMulti, perMsix, perIms, scrape);
    }

    /** What one scrape allocates in the server: the median difference of three back-to-back scrape pairs. */
    static long scrapeCost(MetricsScraper metrics) throws IOException {
        long[] d = new long[3];
        for (int i = 0; i < d.length; i++) {
            long a = metrics.allocatedBytes();
            d[i] = metrics.allocatedBytes() - a;
        }
        Arrays.sort(d);
        return d[1];
    }
}
