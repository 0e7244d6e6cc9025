package io.vfu.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import java.io.IOException;

/**
 * How a config file writes socket access: {@code socketMode} as a JSON string of octal digits ({@code "0660"};
 * a JSON number is refused, since JSON has no octal and 660 would silently mean 01224) and
 * {@code socketGroup} as a group name string or a gid (string or number).
 */
final class SocketJson {

    private SocketJson() {
    }

    /** The Jackson module that reads both, and device entries ({@link DeviceSpecJson}). */
    static SimpleModule module() {
        return new SimpleModule("vfu-config")
                .addDeserializer(DeviceSpec.class, new DeviceSpecJson())
                .addDeserializer(SocketMode.class, new JsonDeserializer<>() {
                    @Override
                    public SocketMode deserialize(JsonParser p, DeserializationContext c) throws IOException {
                        if (p.currentToken() != JsonToken.VALUE_STRING) {
                            throw InvalidFormatException.from(p, "socketMode must be a string of octal digits "
                                    + "such as \"0660\"", p.getText(), SocketMode.class);
                        }
                        return parse(p, () -> SocketMode.parse(p.getText()), SocketMode.class);
                    }
                })
                .addDeserializer(SocketGroup.class, new JsonDeserializer<>() {
                    @Override
                    public SocketGroup deserialize(JsonParser p, DeserializationContext c) throws IOException {
                        if (p.currentToken() != JsonToken.VALUE_STRING
                                && p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                            throw InvalidFormatException.from(p, "socketGroup must be a group name or a gid",
                                    p.getText(), SocketGroup.class);
                        }
                        return parse(p, () -> new SocketGroup(p.getText()), SocketGroup.class);
                    }
                });
    }

    private interface Parse<T> {
        T get() throws IOException;
    }

    /** Runs {@code parse}, turning a rule's IllegalArgumentException into a JSON error naming the value. */
    private static <T> T parse(JsonParser p, Parse<T> parse, Class<T> type) throws IOException {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw InvalidFormatException.from(p, e.getMessage(), p.getText(), type);
        }
    }
}
