package io.vfu.server;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.device.DeviceHost;
import io.vfu.server.metrics.DeviceMetrics;
import io.vfu.server.metrics.InterruptMetrics;
import io.vfu.server.metrics.MetricsEndpoint;
import io.vfu.server.transport.UnixSocketListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** A running server: every configured device on its socket, plus the optional metrics endpoint. */
public final class VfuServer implements AutoCloseable {

    private final PrometheusMeterRegistry registry;
    private final List<DeviceEndpoint> endpoints = new ArrayList<>();
    private MetricsEndpoint metricsEndpoint;

    private VfuServer(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /**
     * Starts every device of {@code config}; metrics on {@code metricsHost:metricsPort} if a port is given.
     * On failure everything started so far is closed again.
     *
     * <p>Start-up runs two things side by side (BENCH.md "Start-up"): a helper thread builds the metrics
     * registry and each device's meters (Micrometer's start-up cost), while this thread binds every socket
     * (which links the FFM socket calls). The devices are then built on their meters and start accepting; a
     * client that connects in between waits in the listen backlog.
     */
    public static VfuServer start(ServerConfig config, Optional<Integer> metricsPort, String metricsHost)
            throws IOException {
        List<DeviceSpec> specs = config.devices();
        CompletableFuture<Metrics> metricsReady = new CompletableFuture<>();
        Thread.ofPlatform().name("vfu-metrics-init").daemon(true).start(() -> {
            try {
                metricsReady.complete(Metrics.build(specs));
            } catch (Throwable t) {
                metricsReady.completeExceptionally(t);
            }
        });
        List<UnixSocketListener> listeners = new ArrayList<>();
        VfuServer s = null;
        try {
            for (DeviceSpec spec : specs) {
                listeners.add(UnixSocketListener.bind(spec.socket()));
            }
            Metrics metrics = join(metricsReady);
            s = new VfuServer(metrics.registry());
            for (int i = 0; i < specs.size(); i++) {
                DeviceSpec spec = specs.get(i);
                DeviceMetrics m = metrics.devices().get(i);
                DeviceHost host = new DeviceHost(spec.name(), spec.toDeviceConfig(), m);
                bindDeviceGauges(m, host);
                DeviceEndpoint ep = new DeviceEndpoint(host, spec.socket(), new HashSet<>(config.allowedUids()));
                s.endpoints.add(ep);
                ep.start(listeners.get(i));
            }
            Optional<Integer> port = metricsPort.or(() -> Optional.ofNullable(config.metricsPort()));
            if (port.isPresent()) {
                s.metricsEndpoint = MetricsEndpoint.start(s.registry, metricsHost, port.get());
            }
        } catch (IOException | RuntimeException e) {
            if (s != null) {
                s.close();
            }
            // Listeners not yet handed to an endpoint are closed here (closing twice is harmless).
            for (UnixSocketListener l : listeners) {
                try {
                    l.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return s;
    }

    /** The registry and one {@link DeviceMetrics} per device, in config order. */
    private record Metrics(PrometheusMeterRegistry registry, List<DeviceMetrics> devices) {
        static Metrics build(List<DeviceSpec> specs) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            List<DeviceMetrics> devices = new ArrayList<>(specs.size());
            for (DeviceSpec spec : specs) {
                devices.add(new DeviceMetrics(registry, spec.name()));
            }
            return new Metrics(registry, devices);
        }
    }

    private static Metrics join(CompletableFuture<Metrics> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the metrics registry was built");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static void bindDeviceGauges(DeviceMetrics m, DeviceHost host) {
        InterruptMetrics.bind(m, host.stats());
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
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
    }
}
