package io.vfu.server;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.device.DeviceTypes;
import io.vfu.server.dma.MappingBudget;
import io.vfu.server.transport.AcceptLoop;
import io.vfu.server.transport.TransportLimits;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.server.metrics.InterruptMetrics;
import io.vfu.server.metrics.JvmAllocationMetrics;
import io.vfu.server.metrics.MetricsEndpoint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A running server: every configured device on its socket, plus the optional metrics endpoint. */
public final class VfuServer implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<DeviceEndpoint> endpoints = new ArrayList<>();
    /** One thread accepts for every device (see AcceptLoop). */
    private final AcceptLoop acceptLoop = AcceptLoop.start(TransportLimits.DEFAULT, "vfu-accept");
    private MetricsEndpoint metricsEndpoint;

    private VfuServer() {
        JvmAllocationMetrics.bind(registry);
    }

    /**
     * Starts every device of {@code config}; metrics on {@code metricsHost:metricsPort} if a port is given.
     * On failure everything started so far is closed again.
     */
    public static VfuServer start(ServerConfig config, Optional<Integer> metricsPort, String metricsHost)
            throws IOException {
        return start(config, metricsPort, metricsHost, ServerLimits.DEFAULT);
    }

    /** As {@link #start(ServerConfig, Optional, String)}, with the given bounds on waiting for clients. */
    public static VfuServer start(ServerConfig config, Optional<Integer> metricsPort, String metricsHost,
            ServerLimits limits) throws IOException {
        VfuServer s = new VfuServer();
        // Rule: one mapping budget for every device of the process (vm.max_map_count is per process).
        MappingBudget mappings = new MappingBudget(limits.mappedFilesPerProcess());
        s.registry.gauge("vfu.dma.mapped.files", mappings, MappingBudget::used);
        s.registry.gauge("vfu.dma.mapped.files.budget", mappings, MappingBudget::limit);
        try {
            for (DeviceSpec spec : config.devices()) {
                DeviceMetrics metrics = new DeviceMetrics(s.registry, spec.name());
                DeviceHost host = new DeviceHost(spec.name(), DeviceTypes.factory(spec.type()), spec.settings(),
                        metrics);
                bindDeviceGauges(metrics, host);
                DeviceEndpoint ep = new DeviceEndpoint(host, spec.socket(), config.socketAccess(spec),
                        config.peerPolicy(), limits, mappings);
                s.endpoints.add(ep);
                ep.start(s.acceptLoop);
            }
            Optional<Integer> port = metricsPort.or(() -> Optional.ofNullable(config.metricsPort()));
            if (port.isPresent()) {
                s.metricsEndpoint = MetricsEndpoint.start(s.registry, metricsHost, port.get());
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
        m.functionCounter("vfu.posted.writes.dropped", "Posted writes dropped because no client was attached",
                Tags.empty(), host, DeviceHost::postedWithoutClient);
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
