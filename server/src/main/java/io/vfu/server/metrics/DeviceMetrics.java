package io.vfu.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.transport.ReceivePollStats;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToDoubleFunction;

/**
 * The metrics of one served device, every series tagged {@code device}. Meters on the request path are looked
 * up once and cached here, so recording costs no map lookup of tags per message.
 *
 * <p>An idle device is cheap to scrape: the per-command latency histograms (16 series each) are registered when
 * their command is first seen, so a device no client has talked to exports none, and one that served a session
 * exports only the commands that session sent.
 *
 * <p>Names follow Prometheus conventions: counters end in {@code _total}, durations are in seconds, sizes in
 * bytes (Micrometer's Prometheus registry appends the suffixes to the base names used here).
 */
public final class DeviceMetrics {

    /** How DMA reached guest memory. */
    public enum DmaMode { MMAP, MESSAGE }

    /** Direction of a DMA transfer, seen from the device. */
    public enum DmaDirection { READ, WRITE }

    private static final Command[] COMMANDS = Command.values();

    /** Latency buckets: a vfio-user round trip is tens of microseconds; a reset may take seconds. */
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(5_000), Duration.ofNanos(10_000), Duration.ofNanos(20_000), Duration.ofNanos(50_000),
        Duration.ofNanos(100_000), Duration.ofNanos(200_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
        Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(1),
    };

    private final MeterRegistry registry;
    private final Tags deviceTag;
    /** Every command's timer by ordinal, unknown commands in the last slot; null until the command is seen. */
    private final AtomicReferenceArray<Timer> commandTimers = new AtomicReferenceArray<>(COMMANDS.length + 1);
    private final Map<Long, Counter> errors = new ConcurrentHashMap<>();
    private final Map<Long, Counter> postedWriteFailures = new ConcurrentHashMap<>();
    private final Counter sessionsOpened;
    private final Counter sessionsClosed;
    private final Counter sessionsRefused;
    private final Counter[][] dmaBytes = new Counter[DmaMode.values().length][DmaDirection.values().length];
    private final Map<String, Counter> irqIndexDisables = new ConcurrentHashMap<>();
    private final Map<String, Counter> setIrqs = new ConcurrentHashMap<>();
    /** What busy-polling did for this device's sessions; exported only while polling is on (see below). */
    private final ReceivePollStats receivePolls = new ReceivePollStats();
    private final java.util.concurrent.atomic.AtomicBoolean pollMetersRegistered =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Counters of rare events, registered when first counted (an idle device exports none of them). */
    private final Map<String, Counter> events = new ConcurrentHashMap<>();

    public DeviceMetrics(MeterRegistry registry, String device) {
        this.registry = registry;
        this.deviceTag = Tags.of("device", device);
        sessionsOpened = Counter.builder("vfu.sessions.opened").description("Client sessions opened")
                .tags(deviceTag).register(registry);
        sessionsClosed = Counter.builder("vfu.sessions.closed").description("Client sessions closed")
                .tags(deviceTag).register(registry);
        sessionsRefused = Counter.builder("vfu.sessions.refused")
                .description("Connections refused (device busy or peer not allowed)")
                .tags(deviceTag).register(registry);
        for (DmaMode m : DmaMode.values()) {
            for (DmaDirection d : DmaDirection.values()) {
                dmaBytes[m.ordinal()][d.ordinal()] = Counter.builder("vfu.dma")
                        .baseUnit("bytes").description("Bytes moved by device DMA")
                        .tags(deviceTag).tag("mode", m.name().toLowerCase())
                        .tag("direction", d.name().toLowerCase()).register(registry);
            }
        }
    }

    /**
     * Where this device's sessions count their polling. The first call registers its meters (the server makes
     * it only when polling is on): {@code vfu_receive_polls_total{result="hit"|"miss"}} (a message taken while
     * polling, a wake-up saved; a window that ran out) and {@code vfu_receive_poll_seconds_total} (time spent
     * polling).
     */
    public ReceivePollStats receivePolls() {
        if (pollMetersRegistered.compareAndSet(false, true)) {
            String polls = "Session reads that busy-polled: hit = the message came while polling (a wake-up "
                    + "saved), miss = the window ran out and the thread slept";
            functionCounter("vfu.receive.polls", polls, Tags.of("result", "hit"), receivePolls, ReceivePollStats::hits);
            functionCounter("vfu.receive.polls", polls, Tags.of("result", "miss"), receivePolls,
                    ReceivePollStats::misses);
            io.micrometer.core.instrument.FunctionCounter.builder("vfu.receive.poll", receivePolls,
                    s -> s.pollNanos() / 1e9).baseUnit("seconds")
                    .description("Time session threads spent busy-polling for their client's next message")
                    .tags(deviceTag).register(registry);
        }
        return receivePolls;
    }

    private Timer commandTimer(String command) {
        return Timer.builder("vfu.command").description("vfio-user commands handled, by command")
                .tags(deviceTag).tag("command", command)
                // Rule: a fixed, short bucket list keeps 1,000 devices cheap (no per-timer percentile histogram).
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    /**
     * The timer of a command, or of unknown commands when {@code command} is null; registered on first use.
     * After that it is one array read: no allocation, no lock.
     */
    public Timer command(Command command) {
        int slot = command == null ? COMMANDS.length : command.ordinal();
        Timer t = commandTimers.get(slot);
        if (t == null) {
            // Rule: Micrometer returns the registered timer for an existing name and tags, so two threads that
            // race here end up with the same timer and one series.
            t = commandTimer(command == null ? "UNKNOWN" : command.name());
            commandTimers.set(slot, t);
        }
        return t;
    }

    /** Counts one error reply sent with {@code errno}. */
    public void error(long errno) {
        errors.computeIfAbsent(errno, e -> {
            Errno named = Errno.fromCode(e);
            return Counter.builder("vfu.errors").description("Error replies sent, by errno")
                    .tags(deviceTag).tag("errno", named != null ? named.name() : Long.toString(e))
                    .register(registry);
        }).increment();
    }

    /** Counts a posted write (DMA_WRITE with No_reply) the client answered with an error. */
    public void postedWriteFailed(long errno) {
        // Rule: the errno comes from the peer; only errnos we name get a series of their own, so a peer cannot
        // grow the registry without bound.
        Errno named = Errno.fromCode(errno);
        long key = named != null ? errno : -1;
        postedWriteFailures.computeIfAbsent(key, e -> Counter.builder("vfu.posted.writes.failed")
                .description("Posted writes (interrupt messages) the client could not carry out, by errno")
                .tags(deviceTag).tag("errno", named != null ? named.name() : "other")
                .register(registry)).increment();
    }

    public void sessionOpened() {
        sessionsOpened.increment();
    }

    public void sessionClosed() {
        sessionsClosed.increment();
    }

    public void sessionRefused() {
        sessionsRefused.increment();
    }

    public void dma(DmaMode mode, DmaDirection direction, long bytes) {
        dmaBytes[mode.ordinal()][direction.ordinal()].increment(bytes);
    }

    /** Counts a SET_IRQS that disabled a whole IRQ index (the event dynamic MSI-X append avoids). */
    public void irqIndexDisabled(String index) {
        irqIndexDisables.computeIfAbsent(index, i -> Counter.builder("vfu.irq.index.disables")
                .description("SET_IRQS requests that disabled a whole IRQ index")
                .tags(deviceTag).tag("index", i).register(registry)).increment();
    }

    /** Counts a SET_IRQS request by index and action. */
    public void setIrqs(String index, String action) {
        setIrqs.computeIfAbsent(index + '/' + action, k -> Counter.builder("vfu.set.irqs")
                .description("SET_IRQS requests, by index and action")
                .tags(deviceTag).tag("index", index).tag("action", action).register(registry)).increment();
    }

    /** An interrupt found its eventfd's counter at the maximum: it merged into the one pending there. */
    public void eventFdFull() {
        event("vfu.interrupts.eventfd.full",
                "Interrupts merged into an eventfd whose counter was full (EAGAIN): delivered, coalesced");
    }

    /** A session ended because a send to its client made no progress within the send timeout. */
    public void sendTimeout() {
        event("vfu.sessions.send.timeouts", "Sessions ended because their client stopped reading");
    }

    /** A connection was closed because it did not complete VERSION within the handshake timeout. */
    public void handshakeTimeout() {
        event("vfu.sessions.handshake.timeouts", "Connections closed for not completing VERSION in time");
    }

    /** Direct DMA hit memory the client's file no longer backs (it shrank after DMA_MAP): a bus error. */
    public void dmaFault() {
        event("vfu.dma.faults", "Direct DMA accesses that faulted because the client's file shrank");
    }

    private void event(String name, String description) {
        events.computeIfAbsent(name, n -> Counter.builder(n).description(description).tags(deviceTag)
                .register(registry)).increment();
    }

    /** The meters a device registers for itself: {@code vfu_device_*}, tagged with this device. */
    public io.vfu.device.DeviceMeters deviceMeters() {
        return new io.vfu.device.DeviceMeters() {
            @Override
            public Counter counter(String name, String description) {
                io.micrometer.core.instrument.Counter c = io.micrometer.core.instrument.Counter
                        .builder("vfu.device." + io.vfu.device.DeviceMeters.check(name)).description(description)
                        .tags(deviceTag).register(registry);
                return new Counter() {
                    @Override
                    public void increment() {
                        c.increment();
                    }

                    @Override
                    public void add(long amount) {
                        c.increment(amount);
                    }
                };
            }

            @Override
            public void gauge(String name, String description, java.util.function.DoubleSupplier value) {
                io.micrometer.core.instrument.Gauge.builder("vfu.device." + io.vfu.device.DeviceMeters.check(name),
                        value, java.util.function.DoubleSupplier::getAsDouble).description(description).tags(deviceTag).register(registry);
            }
        };
    }

    /** Registers a counter whose value is read from {@code source} at scrape time. */
    public <T> void functionCounter(String name, String description, Tags tags, T source, ToDoubleFunction<T> f) {
        io.micrometer.core.instrument.FunctionCounter.builder(name, source, f).description(description)
                .tags(deviceTag).tags(tags).register(registry);
    }

    /** Registers a gauge whose value is read from {@code source} at scrape time. */
    public <T> void gauge(String name, String description, Tags tags, T source, ToDoubleFunction<T> f) {
        io.micrometer.core.instrument.Gauge.builder(name, source, f).description(description)
                .tags(deviceTag).tags(tags).register(registry);
    }
}
