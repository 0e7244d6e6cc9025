package io.vfu.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads one entry of {@code devices}: the server's keys ({@link DeviceSpec#SERVER_KEYS}) become fields, and
 * every other key goes, untouched, into the device's settings for its factory to check.
 */
final class DeviceSpecJson extends JsonDeserializer<DeviceSpec> {

    @Override
    public DeviceSpec deserialize(JsonParser p, DeserializationContext c) throws IOException {
        JsonNode tree = p.readValueAsTree();
        if (tree == null || !tree.isObject()) {
            throw InvalidFormatException.from(p, "a device must be a JSON object", String.valueOf(tree),
                    DeviceSpec.class);
        }
        ObjectNode settings = ((ObjectNode) tree).deepCopy();
        String name = text(p, settings.remove("name"), "name");
        String socket = text(p, settings.remove("socket"), "socket");
        String type = text(p, settings.remove("type"), "type");
        JsonNode mode = settings.remove("socketMode");
        JsonNode group = settings.remove("socketGroup");
        return new DeviceSpec(name, socket == null ? null : Path.of(socket), type,
                mode == null ? null : c.readTreeAsValue(mode, SocketMode.class),
                group == null ? null : c.readTreeAsValue(group, SocketGroup.class), settings);
    }

    /** A string-valued server key, or null when absent. */
    private static String text(JsonParser p, JsonNode v, String key) throws IOException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw InvalidFormatException.from(p, "\"" + key + "\" must be a string", v.toString(), String.class);
        }
        return v.textValue();
    }
}
