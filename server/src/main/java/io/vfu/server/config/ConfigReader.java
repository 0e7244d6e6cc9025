package io.vfu.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vfu.device.SettingException;
import io.vfu.server.device.DeviceTypes;
import io.vfu.server.socket.PeerPolicy;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a config file's JSON into a {@link ServerConfig}, key by key, so that every mistake is a
 * {@link ConfigException} with the line, column and JSON path of the key, the device it concerns, and for an
 * unknown key the valid ones. Integers are integral JSON numbers only ({@code 64.7} and {@code "64"} are
 * mistakes, not 64). Every key is documented in {@code docs/configuration.md} and {@code docs/config.schema.json}.
 */
final class ConfigReader {

    /** The keys of the top-level object. */
    static final Set<String> TOP_KEYS = Set.of("devices", "allowedUids", "allowedGids", "metricsPort", "socketMode",
            "socketGroup", "limits");
    /** The keys of {@code limits}. */
    static final Set<String> LIMITS_KEYS = Set.of("handshakeTimeoutMs", "sendTimeoutMs", "dmaMappedFilesPerSession",
            "dmaMappedFilesPerProcess", "pollMaxMicros");
    /** The longest timeout a limit may set, one hour (0 would mean never). */
    private static final long MAX_TIMEOUT_MS = 3_600_000;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final String source;
    private final JsonLocations where;

    private ConfigReader(String source, JsonLocations where) {
        this.source = source;
        this.where = where;
    }

    /**
     * The config {@code json} describes.
     *
     * @throws ConfigException for malformed JSON or any mistake in it, located
     */
    static ServerConfig read(String source, String json) {
        JsonNode root;
        JsonLocations where;
        try {
            root = MAPPER.readTree(json);
            where = JsonLocations.in(json);
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new ConfigException(source, l == null ? 0 : l.getLineNr(), l == null ? 0 : l.getColumnNr(), "",
                    "not valid JSON: " + e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*", ""), Set.of(),
                    e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String fails only through a bug
        }
        return new ConfigReader(source, where).config(root);
    }

    private ServerConfig config(JsonNode root) {
        if (root == null || root.isMissingNode()) {
            throw fail("", "the file is empty; a config is a JSON object with \"devices\"");
        }
        ObjectNode top = object(root, "", "the config");
        keys(top, "", TOP_KEYS, "");
        List<Long> uids = ids(top.get("allowedUids"), "allowedUids");
        List<Long> gids = ids(top.get("allowedGids"), "allowedGids");
        Long port = integer(top.get("metricsPort"), "metricsPort", 0, 65535, "");
        SocketMode mode = mode(top.get("socketMode"), "socketMode", "");
        SocketGroup group = group(top.get("socketGroup"), "socketGroup", "");
        ServerConfig.Limits limits = limits(top.get("limits"));
        JsonNode devices = top.get("devices");
        if (devices == null || !devices.isArray() || devices.isEmpty()) {
            throw fail(devices == null ? "" : "devices", "a config needs \"devices\": an array of at least one "
                    + "device" + (devices == null ? "" : ", not " + devices));
        }
        List<DeviceSpec> specs = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<Path, String> sockets = new HashMap<>();
        for (int i = 0; i < devices.size(); i++) {
            String path = "devices[" + i + "]";
            DeviceSpec d = device(devices.get(i), path);
            String other = names.putIfAbsent(d.name(), path);
            if (other != null) {
                throw fail(path + ".name", "duplicate device name " + d.name() + " (also " + other + ")");
            }
            other = sockets.putIfAbsent(d.socket().toAbsolutePath().normalize(), path);
            if (other != null) {
                throw fail(path + ".socket", "device " + d.name() + ": duplicate socket " + d.socket() + " (also "
                        + other + ")");
            }
            specs.add(d);
        }
        try {
            return new ServerConfig(specs, uids, port == null ? null : port.intValue(), gids, mode, group, limits);
        } catch (IllegalArgumentException e) {
            throw fail("", e.getMessage()); // every rule was checked above; this is a backstop
        }
    }

    private DeviceSpec device(JsonNode node, String path) {
        ObjectNode entry = object(node, path, "a device");
        JsonNode nameNode = entry.get("name");
        String name = text(nameNode, JsonLocations.join(path, "name"), "");
        // Rule: a device name is a metric tag and a log field: short, and no spaces or quotes.
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw fail(nameNode == null ? path : JsonLocations.join(path, "name"), "a device needs a \"name\" of "
                    + "1-64 of [A-Za-z0-9_.-]" + (nameNode == null ? "" : ", not " + nameNode));
        }
        String device = "device " + name + ": ";
        String socket = text(entry.get("socket"), JsonLocations.join(path, "socket"), device);
        if (socket == null || socket.isEmpty()) {
            throw fail(entry.has("socket") ? JsonLocations.join(path, "socket") : path,
                    device + "needs a \"socket\" path");
        }
        String type = text(entry.get("type"), JsonLocations.join(path, "type"), device);
        type = type == null ? DeviceTypes.DEFAULT : type;
        try {
            DeviceTypes.factory(type);
        } catch (IllegalArgumentException e) {
            throw fail(JsonLocations.join(path, "type"), device + e.getMessage());
        }
        SocketMode mode = mode(entry.get("socketMode"), JsonLocations.join(path, "socketMode"), device);
        SocketGroup group = group(entry.get("socketGroup"), JsonLocations.join(path, "socketGroup"), device);
        ObjectNode settings = entry.deepCopy();
        settings.remove(DeviceSpec.SERVER_KEYS);
        DeviceSpec spec = new DeviceSpec(name, Path.of(socket), type, mode, group, settings);
        try {
            // Rule: an unknown type or a bad setting is refused at load time, not at first use.
            DeviceTypes.factory(type).validate(settings);
        } catch (SettingException e) {
            String at = JsonLocations.join(path, e.key());
            throw located(at, device + e.getMessage(), e.validKeys(), e);
        } catch (IllegalArgumentException e) {
            throw located(path, device + e.getMessage(), Set.of(), e);
        }
        return spec;
    }

    private ServerConfig.Limits limits(JsonNode node) {
        if (node == null) {
            return null;
        }
        ObjectNode o = object(node, "limits", "\"limits\"");
        keys(o, "limits", LIMITS_KEYS, "");
        Long session = integer(o.get("dmaMappedFilesPerSession"), "limits.dmaMappedFilesPerSession", 0,
                Integer.MAX_VALUE, "");
        return new ServerConfig.Limits(
                integer(o.get("handshakeTimeoutMs"), "limits.handshakeTimeoutMs", 1, MAX_TIMEOUT_MS, ""),
                integer(o.get("sendTimeoutMs"), "limits.sendTimeoutMs", 1, MAX_TIMEOUT_MS, ""),
                session == null ? null : session.intValue(),
                integer(o.get("dmaMappedFilesPerProcess"), "limits.dmaMappedFilesPerProcess", 0, Long.MAX_VALUE, ""),
                integer(o.get("pollMaxMicros"), "limits.pollMaxMicros", 0, ServerConfig.MAX_POLL_MICROS, ""));
    }

    /** {@code node} as an object, or a mistake naming {@code what} it should be. */
    private ObjectNode object(JsonNode node, String path, String what) {
        if (!node.isObject()) {
            throw fail(path, what + " must be a JSON object, not " + node);
        }
        return (ObjectNode) node;
    }

    /** Rule: a key that is not in {@code valid} is refused, never ignored (a typo would silently do nothing). */
    private void keys(ObjectNode o, String path, Set<String> valid, String device) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!valid.contains(key)) {
                throw located(JsonLocations.join(path, key), device + "unknown key \"" + key + "\"; valid keys: "
                        + String.join(", ", new java.util.TreeSet<>(valid)), valid, null);
            }
        }
    }

    private String text(JsonNode v, String path, String device) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw fail(path, device + "must be a string, not " + v);
        }
        return v.textValue();
    }

    /** An integral JSON number in {@code [min, max]}, or null when absent. */
    private Long integer(JsonNode v, String path, long min, long max, String device) {
        if (v == null || v.isNull()) {
            return null;
        }
        // Rule: only an integral JSON number is an integer (64.7 and "64" are mistakes, not 64).
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw fail(path, device + "must be an integer, not " + v);
        }
        if (v.longValue() < min || v.longValue() > max) {
            throw fail(path, device + "must be in [" + min + ", " + max + "], not " + v);
        }
        return v.longValue();
    }

    private List<Long> ids(JsonNode v, String path) {
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw fail(path, "must be an array of numeric ids, not " + v);
        }
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            // Rule: an id is a u32 other than (id_t) -1; anything else can never match a peer.
            ids.add(integer(v.get(i), path + "[" + i + "]", 0, PeerPolicy.MAX_ID, ""));
        }
        return ids;
    }

    private SocketMode mode(JsonNode v, String path, String device) {
        if (v == null || v.isNull()) {
            return null;
        }
        // Rule: a mode is a string; JSON has no octal, and the number 660 would silently mean 01224.
        if (!v.isTextual()) {
            throw fail(path, device + "socketMode must be a string of octal digits such as \"0660\", not " + v);
        }
        try {
            return SocketMode.parse(v.textValue());
        } catch (IllegalArgumentException e) {
            throw fail(path, device + e.getMessage());
        }
    }

    private SocketGroup group(JsonNode v, String path, String device) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() && !v.isIntegralNumber()) {
            throw fail(path, device + "socketGroup must be a group name or a gid, not " + v);
        }
        try {
            return new SocketGroup(v.asText());
        } catch (IllegalArgumentException e) {
            throw fail(path, device + e.getMessage());
        }
    }

    private ConfigException fail(String path, String problem) {
        return located(path, problem, Set.of(), null);
    }

    private ConfigException located(String path, String problem, Set<String> validKeys, Throwable cause) {
        JsonLocations.At at = where.of(path);
        return new ConfigException(source, at.line(), at.column(), path, problem, validKeys, cause);
    }
}
