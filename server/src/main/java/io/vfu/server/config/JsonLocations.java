package io.vfu.server.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each member of a JSON document is written: for a JSON path such as {@code devices[1].msixVector}, the
 * line and column of its key (of the value, for an array element). Jackson's tree keeps no positions, so the
 * text is read a second time, token by token.
 */
final class JsonLocations {

    /** A 1-based line and column. */
    record At(int line, int column) {
        static final At UNKNOWN = new At(0, 0);
    }

    private final Map<String, At> at;

    private JsonLocations(Map<String, At> at) {
        this.at = at;
    }

    /** The locations in {@code json}, which must already have parsed as valid JSON. */
    static JsonLocations in(String json) throws IOException {
        Map<String, At> at = new HashMap<>();
        /** One open container: its path, and for an array the index of the next element. */
        final class Frame {
            final String path;
            final boolean array;
            int next;
            String member;

            Frame(String path, boolean array) {
                this.path = path;
                this.array = array;
            }
        }
        Deque<Frame> open = new ArrayDeque<>();
        try (JsonParser p = new JsonFactory().createParser(json)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                JsonLocation l = p.currentTokenLocation();
                At here = new At(l.getLineNr(), l.getColumnNr());
                Frame top = open.peek();
                if (t == JsonToken.FIELD_NAME) {
                    top.member = join(top.path, p.currentName());
                    at.putIfAbsent(top.member, here);
                    continue;
                }
                if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                    open.pop();
                    continue;
                }
                String path;
                if (top == null) {
                    path = "";
                } else if (top.array) {
                    path = top.path + "[" + top.next++ + "]";
                    at.putIfAbsent(path, here);
                } else {
                    path = top.member;
                }
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    at.putIfAbsent(path, here);
                    open.push(new Frame(path, t == JsonToken.START_ARRAY));
                }
            }
        }
        return new JsonLocations(at);
    }

    /** {@code key} as a member of {@code path}: {@code devices[1]} and {@code name} give {@code devices[1].name}. */
    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Where {@code path} is written, or {@link At#UNKNOWN}. */
    At of(String path) {
        return at.getOrDefault(path, At.UNKNOWN);
    }
}
