package io.vfu.server.metrics;

import io.micrometer.core.instrument.Tags;
import io.vfu.device.pci.InterruptCounters;
import io.vfu.device.InterruptSource;
import io.vfu.device.pci.InterruptStats;
import java.util.function.ToDoubleFunction;

/**
 * Exports the device model's interrupt statistics. They are read at scrape time from the model's counters
 * (written with opaque stores under the device lock, so a scrape never sees a torn or falling value); the
 * request path pays nothing for them.
 */
public final class InterruptMetrics {

    private InterruptMetrics() {
    }

    /** Registers every interrupt series of one device, tagged {@code index} = INTX, MSIX or IMS. */
    public static void bind(DeviceMetrics m, InterruptStats stats) {
        for (InterruptSource source : InterruptSource.values()) {
            InterruptCounters c = stats.counters(source);
            Tags index = Tags.of("index", source.name());
            counter(m, "vfu.interrupts.signalled", "Interrupt signals raised by the device", index, c,
                    InterruptCounters::signalled);
            counter(m, "vfu.interrupts.delivered", "Interrupts delivered (eventfd or posted write)", index, c,
                    InterruptCounters::delivered);
            counter(m, "vfu.interrupts.latched", "Signals that set a pending bit because the vector was masked "
                    + "or had no target", index, c, InterruptCounters::latched);
            counter(m, "vfu.interrupts.coalesced", "Signals that found their pending bit already set", index, c,
                    InterruptCounters::coalesced);
            counter(m, "vfu.interrupts.delivered.on.unmask", "Pending interrupts delivered at unmask or when a "
                    + "target arrived", index, c, InterruptCounters::deliveredOnUnmask);
            counter(m, "vfu.interrupts.dropped", "Signals dropped (MSI-X disabled)", index, c,
                    InterruptCounters::dropped);
            counter(m, "vfu.interrupts.discarded", "Pending bits cleared by reset", index, c,
                    InterruptCounters::discarded);
        }
        m.gauge("vfu.msix.vectors.assigned", "MSI-X vectors holding an eventfd", Tags.empty(), stats,
                InterruptStats::msixAssigned);
        m.gauge("vfu.ims.entries.in.use", "IMS entries holding a vector-budget unit", Tags.empty(), stats,
                InterruptStats::imsInUse);
        m.gauge("vfu.vector.budget.used", "Vector-budget units in use", Tags.empty(), stats,
                InterruptStats::budgetUsed);
        m.gauge("vfu.vector.budget.size", "Vector-budget units in all", Tags.empty(), stats,
                InterruptStats::budgetTotal);
        counter(m, "vfu.vector.budget.exhausted", "Allocations refused for lack of vector budget",
                Tags.of("kind", "MSIX"), stats, InterruptStats::budgetExhaustedMsix);
        counter(m, "vfu.vector.budget.exhausted", "Allocations refused for lack of vector budget",
                Tags.of("kind", "IMS"), stats, InterruptStats::budgetExhaustedIms);
    }

    private static <T> void counter(DeviceMetrics m, String name, String help, Tags tags, T source,
                                    ToDoubleFunction<T> f) {
        m.functionCounter(name, help, tags, source, f);
    }
}
