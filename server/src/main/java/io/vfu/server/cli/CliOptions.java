package io.vfu.server.cli;

import io.vfu.server.config.ServerConfig;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the command line asked for, after {@link ServerCommand} parsed and checked it: exactly one of
 * {@code socket} and {@code config} is present, and the socket access options are only set with {@code socket}.
 *
 * @param socket      serve the built-in default device on this socket path
 * @param config      serve the devices of this JSON file
 * @param metricsPort expose Prometheus metrics on this port, if present
 * @param metricsHost address the metrics endpoint binds to (loopback unless set)
 * @param socketMode  mode of the {@code --socket} file (default 0600)
 * @param socketGroup group of the {@code --socket} file (default the server's)
 * @param allowUids   peer uids served besides the server's own
 * @param allowGids   peer effective gids served
 * @param pollMaxMicros the longest session threads busy-poll before sleeping, if given (over the config's)
 * @param logging     the log level, format and command trace
 */
public record CliOptions(Optional<Path> socket, Optional<Path> config, Optional<Integer> metricsPort,
                         String metricsHost, Optional<SocketMode> socketMode, Optional<SocketGroup> socketGroup,
                         List<Long> allowUids, List<Long> allowGids, Optional<Integer> pollMaxMicros,
                         LogOptions logging) {

    public CliOptions {
        java.util.Objects.requireNonNull(logging, "logging");
        allowUids = List.copyOf(allowUids);
        allowGids = List.copyOf(allowGids);
    }

    /** The limits {@code config} sets, with {@code --poll-max-us} over its polling window when given. */
    public io.vfu.server.ServerLimits limits(ServerConfig config) {
        io.vfu.server.ServerLimits limits = config.serverLimits();
        return pollMaxMicros.map(us -> limits.withPollMax(
                java.time.Duration.of(us, java.time.temporal.ChronoUnit.MICROS))).orElse(limits);
    }

    /** The {@code --socket} form's configuration: the default device with these access options. */
    public ServerConfig singleDeviceConfig() {
        return ServerConfig.single(socket.orElseThrow(() -> new IllegalStateException("no --socket")), allowUids,
                allowGids, socketMode.orElse(null), socketGroup.orElse(null));
    }
}
