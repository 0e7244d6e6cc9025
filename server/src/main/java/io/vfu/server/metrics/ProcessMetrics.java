package io.vfu.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.lang.management.ManagementFactory;

/**
 * The standard JVM and process series from Micrometer's binders, once per registry and without a {@code device}
 * tag: memory ({@code jvm_memory_*}, {@code jvm_buffer_*}), garbage collection ({@code jvm_gc_*}), threads
 * ({@code jvm_threads_*}), classes ({@code jvm_classes_*}), CPU ({@code process_cpu_seconds_total},
 * {@code process_cpu_usage}, {@code system_cpu_usage}, {@code system_load_average_1m}), uptime ({@code process_uptime_seconds}, {@code process_start_time_seconds}) and open
 * files ({@code process_files_open_files}, {@code process_files_max_files}).
 *
 * <p>They are bound when the metrics endpoint serves its first scrape, not at start-up: the binders load
 * {@code java.management}, which would delay the ready line, and nobody can read them before a scrape. GC
 * pauses before that scrape are not counted.
 */
public final class ProcessMetrics implements AutoCloseable {

    private final MeterRegistry registry;
    /** Non-null once bound; it listens for GC notifications until closed. Guarded by this. */
    private JvmGcMetrics gc;
    private boolean closed;

    public ProcessMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers every binder's meters, the first time only; a no-op once closed. */
    public synchronized void bind() {
        if (gc != null || closed) {
            return;
        }
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        // Rule: every exported name passes `promtool check metrics`; these two break its naming lint
        // ("_count" on a gauge, "ns" as a unit), so they go and CPU time is exported in seconds instead.
        removeAll("system.cpu.count");
        removeAll("process.cpu.time");
        FunctionCounter.builder("process.cpu", ProcessMetrics.class, unused -> cpuSeconds())
                .baseUnit("seconds").description("CPU time used by the process (user and system)")
                .register(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        JvmGcMetrics g = new JvmGcMetrics();
        g.bindTo(registry);
        gc = g;
    }

    private void removeAll(String name) {
        registry.find(name).meters().forEach(registry::remove);
    }

    /** The process's CPU time so far, or NaN where the JVM cannot tell. */
    private static double cpuSeconds() {
        long nanos = ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
        // Rule: -1 means not available; a counter must not report a made-up value.
        return nanos < 0 ? Double.NaN : nanos / 1e9;
    }

    /** Stops listening for GC notifications (the meters stay registered). */
    @Override
    public synchronized void close() {
        closed = true;
        if (gc != null) {
            gc.close();
        }
    }
}
