package io.vfu.server.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code --config} file: several devices, each on its own socket, plus access and metrics settings.
 *
 * <pre>{"allowedUids": [1000], "metricsPort": 9464,
 *  "devices": [{"name": "dev0", "socket": "/run/vfu/dev0.sock"}, {"name": "dev1", ...}]}</pre>
 *
 * @param devices     the devices, at least one; names and socket paths are unique
 * @param allowedUids peer UIDs allowed besides the server's own (default: only the server's UID)
 * @param metricsPort metrics port, unless {@code --metrics-port} overrides it
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record ServerConfig(List<DeviceSpec> devices, List<Long> allowedUids, Integer metricsPort) {

    public ServerConfig {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("a config needs at least one device");
        }
        devices = List.copyOf(devices);
        allowedUids = allowedUids == null ? List.of() : List.copyOf(allowedUids);
        Set<String> names = new HashSet<>();
        Set<Path> sockets = new HashSet<>();
        for (DeviceSpec d : devices) {
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("duplicate device name " + d.name());
            }
            if (!sockets.add(d.socket().toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("duplicate socket " + d.socket());
            }
            d.toDeviceConfig(); // Rule: an impossible layout is refused at load time, not at first use.
        }
    }

    public static ServerConfig load(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        try {
            return mapper.readValue(file.toFile(), ServerConfig.class);
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            throw new IllegalArgumentException(file + ": " + e.getCause().getMessage(), e);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** One default device on {@code socket} (the {@code --socket} form). */
    public static ServerConfig single(Path socket) {
        return new ServerConfig(List.of(DeviceSpec.defaultDevice("default", socket)), List.of(), null);
    }
}
