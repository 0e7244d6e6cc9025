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
    private final List<DeviceEndpoint> endpoints = new ArrayList<>();
    /** One thread accepts for every device (see AcceptLoop). */
    private final AcceptLoop acceptLoop = AcceptLoop.start(TransportLimits.DEFAULT, "vfu-accept");
    private MetricsEndpoint metricsEndpoint;

    private VfuServer(PrometheusMeterRegistry registry) {
        this.registry = registry;
        JvmAllocationMetrics.bind(registry);
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
        try {
            for (VfuServerBuilder.Device d : b.devices) {
                DeviceMetrics metrics = new DeviceMetrics(s.registry, d.name());
                DeviceHost host = new DeviceHost(d.name(), d.create(), metrics);
                bindDeviceGauges(metrics, host);
                DeviceEndpoint ep = new DeviceEndpoint(host, d.socket(), d.access(), b.peers, b.limits, mappings);
                s.endpoints.add(ep);
                ep.start(s.acceptLoop);
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

    private static void bindDeviceGauges(DeviceMetrics m, DeviceHost host) {
        if (host.stats() != null) {
            InterruptMetrics.bind(m, host.stats());
        }
        m.functionCounter("vfu.posted.writes.dropped", "Posted writes dropped: no client was attached, or 65,536 were waiting for it",
                Tags.empty(), host, DeviceHost::postedWithoutClient);
    }

    /** For {@code /readyz}: every device whose socket does not take clients now. */
    private List<String> notListening() {
        return endpoints.stream().filter(ep -> !ep.listening())
                .map(ep -> ep.host().name() + ": " + ep.socket() + " is not listening").toList();
    }

    public List<DeviceEndpoint> endpoints() {
        return List.copyOf(endpoints);
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
