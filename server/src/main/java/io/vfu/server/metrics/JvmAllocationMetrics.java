package io.vfu.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;

/**
 * The process's heap allocation as a counter, {@code vfu_jvm_allocated_bytes_total}: bytes allocated on the
 * Java heap by every thread since the JVM started, terminated threads included
 * ({@code com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}, JDK 21+). Two scrapes around a known
 * number of messages give the server's allocation per message, which is how {@code bin/vfu-bench} measures
 * the steady-state request path (BENCH.md); a rising rate on an idle server is garbage made by something else.
 *
 * <p>The value is read at scrape time only, so the request path pays nothing. The management bean is looked
 * up on the first scrape, not at start-up (loading {@code java.management} costs start-up time).
 */
public final class JvmAllocationMetrics {

    /** The Prometheus name is this base name plus the base unit and {@code _total}. */
    static final String NAME = "vfu.jvm.allocated";

    private JvmAllocationMetrics() {
    }

    /** Registers the process-wide counter (no {@code device} tag) in {@code registry}. */
    public static void bind(MeterRegistry registry) {
        // Micrometer holds a function counter's source weakly; this class stays reachable while it is loaded.
        FunctionCounter.builder(NAME, JvmAllocationMetrics.class, unused -> allocatedBytes())
                .baseUnit("bytes")
                .description("Bytes allocated on the Java heap by all threads since the JVM started "
                        + "(approximate; NaN where the JVM cannot measure it)")
                .register(registry);
    }

    /**
     * Bytes allocated by all threads so far, or NaN if this JVM does not support or has disabled per-thread
     * allocation accounting (HotSpot supports and enables it by default).
     */
    static double allocatedBytes() {
        com.sun.management.ThreadMXBean mx = Bean.MX;
        if (mx == null) {
            return Double.NaN;
        }
        long bytes = mx.getTotalThreadAllocatedBytes();
        // Rule: -1 means the measurement is disabled; a counter must not report a made-up value.
        return bytes < 0 ? Double.NaN : bytes;
    }

    /** Holder: the bean is resolved when the first scrape reads the counter. */
    private static final class Bean {
        static final com.sun.management.ThreadMXBean MX = lookup();

        private static com.sun.management.ThreadMXBean lookup() {
            return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported() ? t : null;
        }
    }
}
