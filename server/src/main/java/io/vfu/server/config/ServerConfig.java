package io.vfu.server.config;

import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketAccess;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import io.vfu.transport.nativeio.ErrnoNames;
import java.io.IOException;
import io.vfu.server.ServerLimits;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code --config} file: several devices, each on its own socket, plus access and metrics settings.
 *
 * <pre>{"allowedUids": [1000], "allowedGids": [107], "socketMode": "0660", "socketGroup": "kvm",
 *  "metricsPort": 9464,
 *  "devices": [{"name": "dev0", "socket": "/run/vfu/dev0.sock"}, {"name": "dev1", ...}]}</pre>
 *
 * <p>Access has two layers. The socket file's mode and group decide who can connect at all (connect(2) fails
 * EACCES otherwise); {@link PeerPolicy} then decides, from SO_PEERCRED, whom the server serves: its own uid, a
 * uid in {@code allowedUids}, or an effective gid in {@code allowedGids} (supplementary groups are not
 * consulted). Others are closed without being served. A QEMU running as another user therefore needs both,
 * e.g. {@code "socketMode": "0660", "socketGroup": "107", "allowedGids": [107]}.
 *
 * @param devices     the devices, at least one; names and socket paths are unique
 * @param allowedUids peer uids allowed besides the server's own (default: only the server's uid)
 * @param metricsPort metrics port, unless {@code --metrics-port} overrides it
 * @param allowedGids peer effective gids allowed (default none)
 * @param socketMode  mode of every socket file whose device sets none (default {@code "0600"})
 * @param socketGroup group of every socket file whose device sets none (default: the server's group)
 */
public record ServerConfig(List<DeviceSpec> devices, List<Long> allowedUids, Integer metricsPort,
                           List<Long> allowedGids, SocketMode socketMode, SocketGroup socketGroup,
                           Limits limits) {

    /** The largest polling window a config may ask for (see {@link io.vfu.transport.ReceivePolling#MAX}). */
    public static final long MAX_POLL_MICROS = 1000;

    /**
     * What the server grants one client at most, each key optional ({@link ServerLimits#DEFAULT} otherwise):
     *
     * <pre>"limits": {"handshakeTimeoutMs": 5000, "sendTimeoutMs": 5000, "dmaMappedFilesPerSession": 1024,
     *            "dmaMappedFilesPerProcess": 49146, "pollMaxMicros": 50}</pre>
     *
     * @param handshakeTimeoutMs       how long a connection may take to complete VERSION (1 ms .. 1 h)
     * @param sendTimeoutMs            how long a send to a client may make no progress (1 ms .. 1 h)
     * @param dmaMappedFilesPerSession client files one session may have mapped for direct DMA
     * @param dmaMappedFilesPerProcess the same over every session (default from vm.max_map_count)
     * @param pollMaxMicros            the longest a session's thread busy-polls for the next message before it
     *                                 sleeps, adaptively (0 .. 1000 us, default 50; 0 is no polling)
     */
    public record Limits(Long handshakeTimeoutMs, Long sendTimeoutMs, Integer dmaMappedFilesPerSession,
                         Long dmaMappedFilesPerProcess, Long pollMaxMicros) {

        /** Limits without a polling setting. */
        public Limits(Long handshakeTimeoutMs, Long sendTimeoutMs, Integer dmaMappedFilesPerSession,
                      Long dmaMappedFilesPerProcess) {
            this(handshakeTimeoutMs, sendTimeoutMs, dmaMappedFilesPerSession, dmaMappedFilesPerProcess, null);
        }

        public Limits {
            for (Long ms : new Long[] {handshakeTimeoutMs, sendTimeoutMs}) {
                // Rule: a bound is at least a millisecond and at most an hour; 0 would mean never.
                if (ms != null && (ms < 1 || ms > 3_600_000)) {
                    throw new IllegalArgumentException("limits: timeouts are 1..3600000 ms: " + ms);
                }
            }
            if ((dmaMappedFilesPerSession != null && dmaMappedFilesPerSession < 0)
                    || (dmaMappedFilesPerProcess != null && dmaMappedFilesPerProcess < 0)) {
                throw new IllegalArgumentException("limits: mapped-file budgets are not negative");
            }
            if (pollMaxMicros != null && (pollMaxMicros < 0 || pollMaxMicros > MAX_POLL_MICROS)) {
                throw new IllegalArgumentException("limits: pollMaxMicros is 0.." + MAX_POLL_MICROS + ": "
                        + pollMaxMicros);
            }
        }
    }


    public ServerConfig {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("a config needs at least one device");
        }
        devices = List.copyOf(devices);
        allowedUids = ids(allowedUids, "allowedUids");
        allowedGids = ids(allowedGids, "allowedGids");
        Set<String> names = new HashSet<>();
        Set<Path> sockets = new HashSet<>();
        for (DeviceSpec d : devices) {
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("duplicate device name " + d.name());
            }
            if (!sockets.add(d.socket().toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("duplicate socket " + d.socket());
            }
            d.validate(); // Rule: an unknown type or a bad setting is refused at load time, not at first use.
        }
    }

    /** As the canonical constructor, with the default limits. */
    public ServerConfig(List<DeviceSpec> devices, List<Long> allowedUids, Integer metricsPort,
                        List<Long> allowedGids, SocketMode socketMode, SocketGroup socketGroup) {
        this(devices, allowedUids, metricsPort, allowedGids, socketMode, socketGroup, null);
    }

    /** The limits this config sets, the defaults for what it does not. */
    public ServerLimits serverLimits() {
        ServerLimits d = ServerLimits.DEFAULT;
        if (limits == null) {
            return d;
        }
        ServerLimits set = new ServerLimits(
                limits.handshakeTimeoutMs() != null ? Duration.ofMillis(limits.handshakeTimeoutMs()) : d.handshake(),
                limits.sendTimeoutMs() != null ? Duration.ofMillis(limits.sendTimeoutMs()) : d.send(),
                limits.dmaMappedFilesPerSession() != null ? limits.dmaMappedFilesPerSession()
                        : d.mappedFilesPerSession(),
                limits.dmaMappedFilesPerProcess() != null ? limits.dmaMappedFilesPerProcess()
                        : d.mappedFilesPerProcess(),
                d.polling());
        return limits.pollMaxMicros() == null ? set
                : set.withPollMax(Duration.of(limits.pollMaxMicros(), java.time.temporal.ChronoUnit.MICROS));
    }

    /** Devices, uids and metrics port; sockets private, no gids. */
    public ServerConfig(List<DeviceSpec> devices, List<Long> allowedUids, Integer metricsPort) {
        this(devices, allowedUids, metricsPort, List.of(), null, null);
    }

    private static List<Long> ids(List<Long> ids, String what) {
        if (ids == null) {
            return List.of();
        }
        for (Long id : ids) {
            // Rule: an id is a u32 other than (id_t) -1; anything else can never match a peer.
            if (id == null || id < 0 || id > PeerPolicy.MAX_ID) {
                throw new IllegalArgumentException(what + " holds " + id + ", not a uid/gid (0-" + PeerPolicy.MAX_ID + ")");
            }
        }
        return List.copyOf(ids);
    }

    /**
     * The config in {@code file} (every key: {@code docs/configuration.md}).
     *
     * @throws IOException     naming the file and the errno when it cannot be read
     * @throws ConfigException for a mistake in it, with its line, column and JSON path
     */
    public static ServerConfig load(Path file) throws IOException {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new IOException("cannot read config " + file + ": " + ErrnoNames.reason(e), e);
        }
        return parse(file.toString(), json);
    }

    /**
     * A config from JSON text.
     *
     * @param source the file name that errors name
     * @throws ConfigException for a mistake, with its line, column and JSON path, and the device it concerns
     */
    public static ServerConfig parse(String source, String json) {
        return ConfigReader.read(source, json);
    }

    /** One default device on {@code socket} (the {@code --socket} form), private socket. */
    public static ServerConfig single(Path socket) {
        return new ServerConfig(List.of(DeviceSpec.defaultDevice("default", socket)), List.of(), null);
    }

    /**
     * One default device on {@code socket} with the {@code --socket} form's access options.
     *
     * @param mode  socket mode, or null for 0600
     * @param group socket group, or null for the server's
     */
    public static ServerConfig single(Path socket, List<Long> allowedUids, List<Long> allowedGids, SocketMode mode,
                                      SocketGroup group) {
        return new ServerConfig(List.of(DeviceSpec.defaultDevice("default", socket)), allowedUids, null,
                allowedGids, mode, group);
    }

    /** The mode and group of {@code device}'s socket: its own, else the top-level ones, else private. */
    public SocketAccess socketAccess(DeviceSpec device) {
        SocketMode mode = device.socketMode() != null ? device.socketMode()
                : socketMode != null ? socketMode : SocketMode.PRIVATE;
        SocketGroup group = device.socketGroup() != null ? device.socketGroup() : socketGroup;
        return new SocketAccess(mode, Optional.ofNullable(group));
    }

    /** Whom the server serves once connected (the same for every device). */
    public PeerPolicy peerPolicy() {
        return new PeerPolicy(Set.copyOf(allowedUids), Set.copyOf(allowedGids));
    }
}
