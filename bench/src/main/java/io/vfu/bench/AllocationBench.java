package io.vfu.bench;

import java.io.IOException;
import java.util.Arrays;

/**
 * Server-side heap allocation per message, measured in the server process: its
 * {@code vfu_jvm_allocated_bytes_total} is scraped before and after a steady-state phase of synchronous config
 * reads, then of posted BAR0 writes (plus the barrier read). What one scrape itself allocates in the server is
 * measured as the difference of back-to-back scrapes (median of three, before and after the phases) and
 * subtracted, so the figure charges messages only for what they cost. Run it after the paths are warm
 * (JIT-compiled), as the figures of the main loop are.
 */
final class AllocationBench {

    /**
     * Bytes per message; {@code scrapeBytes} is what one scrape allocated in the server. Noise (a scrape that
     * allocated a little more or less than the median) can leave a figure slightly below zero when the path
     * allocates nothing.
     */
    record Result(double bytesPerRead, double bytesPerPostedWrite, long scrapeBytes) {
    }

    private static final int WARM_SCRAPES = 5;

    private AllocationBench() {
    }

    static Result run(ServerBench b, MetricsScraper metrics, int reads, int postedWrites) throws IOException {
        // The first scrapes cost more (connection set-up, class loading, the scrape path not yet compiled).
        for (int i = 0; i < WARM_SCRAPES; i++) {
            metrics.allocatedBytes();
        }
        long scrapeBefore = scrapeCost(metrics);
        long before = metrics.allocatedBytes();
        b.reads(SyncClient.REGION_CONFIG, ServerBench.CFG_ID, reads);
        long afterReads = metrics.allocatedBytes();
        b.posted(postedWrites);
        long afterPosted = metrics.allocatedBytes();
        // A scrape's cost still drifts a little as its path is compiled: the phases are charged the mean of
        // the cost measured just before and just after them.
        long scrape = (scrapeBefore + scrapeCost(metrics)) / 2;
        double perRead = (double) (afterReads - before - scrape) / reads;
        // The posted phase ends with one barrier read; it is charged at the per-read rate just measured.
        double perPosted = (afterPosted - afterReads - scrape - perRead) / postedWrites;
        return new Result(perRead, perPosted, scrape);
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
