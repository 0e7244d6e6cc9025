package io.vfu.server.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** An integer in a config file, written as a JSON number or as a {@code "0x..."} / decimal string. */
public record HexInt(int value) {

    @JsonCreator
    public static HexInt of(Object raw) {
        if (raw instanceof Number n) {
            return new HexInt(Math.toIntExact(n.longValue()));
        }
        if (raw instanceof String s) {
            String t = s.trim().toLowerCase();
            try {
                return new HexInt(t.startsWith("0x") ? Integer.parseUnsignedInt(t.substring(2), 16)
                        : Integer.parseInt(t));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer: " + s);
            }
        }
        throw new IllegalArgumentException("not an integer: " + raw);
    }

    @JsonValue
    public String json() {
        return "0x" + Integer.toHexString(value);
    }
}
