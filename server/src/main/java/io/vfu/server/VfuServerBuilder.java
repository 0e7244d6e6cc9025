package io.vfu.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.device.DeviceContext;
import io.vfu.device.VfioDevice;
import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import io.vfu.server.device.DeviceTypes;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Describes a server to embed in a program: devices on their sockets, who may connect, limits, metrics.
 *
 * <pre>{@code
 * try (VfuServer server = VfuServer.builder()
 *         .device("gpio0", Path.of("/run/vfu/gpio0.sock"), context -> new MyDevice(context))
 *         .metricsPort(9464)
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * Sockets are private (mode 0600) and only this process's uid is served unless {@link #socketAccess} and
 * {@link #peers} say otherwise.
 */
public final class VfuServerBuilder {

    /** One device to serve. */
    record Device(String name, Path socket, SocketAccess access, Function<DeviceContext, VfioDevice> create,
                  DeviceSpec spec) {

        /** A device of a configuration: what SIGHUP compares with the file read again. */
        static Device of(ServerConfig config, DeviceSpec d) {
            var factory = DeviceTypes.factory(d.type());
            var settings = d.settings();
            return new Device(d.name(), d.socket(), config.socketAccess(d), c -> factory.create(settings, c), d);
        }

    }

    final List<Device> devices = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    PeerPolicy peers = PeerPolicy.SAME_USER;
    ServerLimits limits = ServerLimits.DEFAULT;
    /** The configuration the devices came from, or null for devices added one by one. */
    ServerConfig config;
    PrometheusMeterRegistry registry;
    Integer metricsPort;
    String metricsHost = "127.0.0.1";
    private SocketAccess access = SocketAccess.PRIVATE;

    VfuServerBuilder() {
    }

    /**
     * Serves the device {@code create} makes (with the context the server lends it) on {@code socket}.
     *
     * @param name a name unique in this server: the metrics' {@code device} tag and the log prefix
     */
    public VfuServerBuilder device(String name, Path socket, Function<DeviceContext, VfioDevice> create) {
        return add(new Device(name, socket, access, Objects.requireNonNull(create), null));
    }

    /** Serves every device of {@code config} with its socket access, and takes its peer policy. */
    public VfuServerBuilder config(ServerConfig config) {
        for (DeviceSpec d : config.devices()) {
            add(Device.of(config, d));
        }
        peers = config.peerPolicy();
        this.config = config;
        return this;
    }

    private VfuServerBuilder add(Device d) {
        // Rule: a name identifies one device (metrics tag, logs), as in a config file.
        if (d.name() == null || !d.name().matches("[A-Za-z0-9_.-]{1,64}") || !names.add(d.name())) {
            throw new IllegalArgumentException("device name must be unique and 1-64 of [A-Za-z0-9_.-]: " + d.name());
        }
        devices.add(d);
        return this;
    }

    /** Mode and group of the sockets of devices added after this call (default: private, 0600). */
    public VfuServerBuilder socketAccess(SocketAccess access) {
        this.access = Objects.requireNonNull(access);
        return this;
    }

    /** Which connected peers are served, by SO_PEERCRED (default: this process's uid only). */
    public VfuServerBuilder peers(PeerPolicy peers) {
        this.peers = Objects.requireNonNull(peers);
        return this;
    }

    /** Bounds on clients (default {@link ServerLimits#DEFAULT}). */
    public VfuServerBuilder limits(ServerLimits limits) {
        this.limits = Objects.requireNonNull(limits);
        return this;
    }

    /** The registry the server's meters go to (default: a new one, see {@link VfuServer#registry()}). */
    public VfuServerBuilder registry(PrometheusMeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry);
        return this;
    }

    /** Serves Prometheus metrics on this port (0 picks a free one); none by default. */
    public VfuServerBuilder metricsPort(int port) {
        this.metricsPort = port;
        return this;
    }

    /** Address of the metrics endpoint (default loopback). */
    public VfuServerBuilder metricsHost(String host) {
        this.metricsHost = Objects.requireNonNull(host);
        return this;
    }

    /** Binds every socket and starts serving; on failure nothing is left running. */
    public VfuServer start() throws IOException {
        if (devices.isEmpty()) {
            throw new IllegalStateException("a server needs at least one device");
        }
        return VfuServer.start(this);
    }
}
