package io.vfu.server;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.device.DeviceTypes;
import io.vfu.server.dma.MappingBudget;
import io.vfu.server.socket.AcceptLoop;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.transport.TransportLimits;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.server.metrics.InterruptMetrics;
import io.vfu.server.metrics.JvmAllocationMetrics;
import io.vfu.server.metrics.MetricsEndpoint;
import io.vfu.transport.nativeio.ErrnoNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A running server: devices, each on its own socket, plus the optional metrics endpoint. Start one from a
 * configuration ({@link #start(ServerConfig, Optional, String)}, what the CLI does) or embed it in a program with
 * its own device instances ({@link #builder()}).
 */
public final class VfuServer implements AutoCloseable {

    private final PrometheusMeterRegistry registry;
    /** Copy-on-write: a reload changes it while scrapes and /readyz read it. */
    private final List<DeviceEndpoint> endpoints = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** What a reload needs to start a device like the first ones. */
    private PeerPolicy peers;
    private ServerLimits limits;
    private MappingBudget mappings;
    /** The configuration serving now (null for an embedded server built device by device). */
    private ServerConfig config;
    /** One thread accepts for every device (see AcceptLoop). */
    private final AcceptLoop acceptLoop = AcceptLoop.start(TransportLimits.DEFAULT, "vfu-accept");
    private MetricsEndpoint metricsEndpoint;

    private VfuServer(PrometheusMeterRegistry registry) {
        this.registry = registry;
        JvmAllocationMetrics.bind(registry);
        BuildInfo build = BuildInfo.current();
        Gauge.builder("vfu.build.info", () -> 1).tag("version", build.version()).tag("commit", build.commit())
                .description("1, with the version and git commit of this build as labels").register(registry);
    }

    /**
     * Starts every device of {@code config}; metrics on {@code metricsHost:metricsPort} if a port is given.
     * On failure everything started so far is closed again.
     */
    public static VfuServer start(ServerConfig config, Optional<Integer> metricsPort, String metricsHost)
            throws IOException {
        return start(config, metricsPort, metricsHost, config.serverLimits());
    }

    /** As {@link #start(ServerConfig, Optional, String)}, with the given bounds on clients. */
    public static VfuServer start(ServerConfig config, Optional<Integer> metricsPort, String metricsHost,
            ServerLimits limits) throws IOException {
        VfuServerBuilder b = builder().config(config).limits(limits).metricsHost(metricsHost);
        metricsPort.or(() -> Optional.ofNullable(config.metricsPort())).ifPresent(b::metricsPort);
        return b.start();
    }

    /** A builder for a server embedded in a program, with device instances of its own. */
    public static VfuServerBuilder builder() {
        return new VfuServerBuilder();
    }

    /** Starts what {@code b} describes; on failure everything started so far is closed again. */
    static VfuServer start(VfuServerBuilder b) throws IOException {
        VfuServer s = new VfuServer(b.registry != null ? b.registry
                : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        // Rule: one mapping budget for every device of the process (vm.max_map_count is per process), shared by
        // every server at the machine's limit; a server given a limit of its own keeps its own budget.
        MappingBudget mappings = b.limits.mappedFilesPerProcess() == MappingBudget.process().limit()
                ? MappingBudget.process() : new MappingBudget(b.limits.mappedFilesPerProcess());
        Gauge.builder("vfu.dma.mapped.files", mappings, MappingBudget::used)
                .description("Client files mapped for direct DMA, over every session").register(s.registry);
        Gauge.builder("vfu.dma.mapped.files.budget", mappings, MappingBudget::limit)
                .description("Client files the process may map for direct DMA").register(s.registry);
        s.peers = b.peers;
        s.limits = b.limits;
        s.mappings = mappings;
        s.config = b.config;
        try {
            for (VfuServerBuilder.Device d : b.devices) {
                s.startDevice(d);
            }
            if (b.metricsPort != null) {
                try {
                    s.metricsEndpoint = MetricsEndpoint.start(s.registry, b.metricsHost, b.metricsPort,
                            s::notListening);
                } catch (IOException e) {
                    // Rule: a failure names the address and port and the errno by name and text.
                    throw new IOException("metrics: cannot bind " + b.metricsHost + ":" + b.metricsPort + ": "
                            + ErrnoNames.reason(e), e);
                }
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Creates the device, binds its socket and has the accept loop take its clients. */
    private void startDevice(VfuServerBuilder.Device d) throws IOException {
        DeviceMetrics metrics = new DeviceMetrics(registry, d.name());
        DeviceHost host;
        try {
            host = new DeviceHost(d.name(), d.create(), metrics);
        } catch (RuntimeException e) {
            removeMeters(d.name());
            throw e;
        }
        bindDeviceGauges(metrics, host);
        DeviceEndpoint ep = new DeviceEndpoint(host, d.socket(), d.access(), peers, limits, mappings);
        endpoints.add(ep);
        try {
            ep.start(acceptLoop);
        } catch (IOException | RuntimeException e) {
            endpoints.remove(ep);
            ep.close();
            removeMeters(d.name());
            throw e;
        }
    }

    /** Rule: a device that is gone leaves no series behind (a scrape shows what serves now). */
    private void removeMeters(String device) {
        for (io.micrometer.core.instrument.Meter m : registry.getMeters()) {
            if (device.equals(m.getId().getTag("device"))) {
                registry.remove(m);
            }
        }
    }

    /**
     * Applies {@code next}, the configuration read again (SIGHUP): devices new in it start listening; devices
     * no longer in it stop listening at once and go once their client has detached; a device whose entry
     * changed, and changes of the server-wide keys, are reported as needing a restart and left as they are.
     *
     * @throws IllegalStateException when this server was not started from a configuration
     */
    public synchronized ConfigChange reload(ServerConfig next) {
        if (config == null) {
            throw new IllegalStateException("this server was not started from a configuration");
        }
        ConfigChange change = ConfigChange.between(config, next, this::retiring);
        for (String name : change.removed()) {
            endpoint(name).ifPresent(ep -> ep.retire().whenComplete((v, e) -> {
                endpoints.remove(ep);
                removeMeters(name);
            }));
        }
        java.util.List<String> failed = new java.util.ArrayList<>();
        for (DeviceSpec d : next.devices()) {
            if (change.added().contains(d.name())) {
                try {
                    startDevice(VfuServerBuilder.Device.of(next, d));
                } catch (IOException | RuntimeException e) {
                    failed.add(d.name() + ": " + e.getMessage());
                }
            }
        }
        // Rule: what serves now is the old configuration with the additions and removals applied; entries that
        // changed keep serving as before until a restart.
        config = change.applied(config, next);
        return failed.isEmpty() ? change : change.withFailures(failed);
    }

    private boolean retiring(String name) {
        return endpoint(name).map(DeviceEndpoint::retiring).orElse(false);
    }

    private Optional<DeviceEndpoint> endpoint(String name) {
        return endpoints.stream().filter(ep -> ep.host().name().equals(name) && !ep.retiring()).findFirst()
                .or(() -> endpoints.stream().filter(ep -> ep.host().name().equals(name)).findFirst());
    }

    private static void bindDeviceGauges(DeviceMetrics m, DeviceHost host) {
        if (host.stats() != null) {
            InterruptMetrics.bind(m, host.stats());
        }
        m.functionCounter("vfu.posted.writes.dropped", "Posted writes dropped: no client was attached, or 65,536 were waiting for it",
                Tags.empty(), host, DeviceHost::postedWithoutClient);
    }

    /** For {@code /readyz}: every device whose socket does not take clients now. */
    private List<String> notListening() {
        return endpoints.stream().filter(ep -> !ep.retiring() && !ep.listening())
                .map(ep -> ep.host().name() + ": " + ep.socket() + " is not listening").toList();
    }

    public List<DeviceEndpoint> endpoints() {
        return List.copyOf(endpoints);
    }

    /** The configuration serving now (after reloads), if the server was started from one. */
    public Optional<ServerConfig> config() {
        return Optional.ofNullable(config);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The metrics port actually bound, if metrics are served. */
    public Optional<Integer> metricsPort() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::port);
    }

    @Override
    public void close() {
        for (DeviceEndpoint ep : endpoints) {
            ep.close();
        }
        acceptLoop.close();
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
    }
}
