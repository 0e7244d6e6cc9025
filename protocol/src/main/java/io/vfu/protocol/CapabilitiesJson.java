package io.vfu.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The VERSION JSON, {@code {"capabilities":{...}}} (spec "VFIO_USER_VERSION").
 *
 * <p>Decoding rules (EINVAL for each): the text is one JSON object with nothing after it, no duplicate keys;
 * {@code capabilities} and {@code migration}/{@code twin_socket}, when present, are objects; numbers are
 * non-negative integers (max_msg_fds fits an int) within {@link CapabilityBounds}; booleans are booleans.
 * Absent keys take the spec defaults.
 * Unknown keys are ignored (forward compatibility, as the spec's minor versions add keys), and we never
 * write any, because QEMU warns about keys it does not know.
 *
 * <p>Encoding writes the four numeric limits always (QEMU's defaults for absent keys differ from the spec's,
 * e.g. its max_msg_fds, so being explicit is the only safe choice), {@code migration} and
 * {@code twin_socket} when present, and {@code write_multiple} only when true.
 */
final class CapabilitiesJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
            .build();

    private CapabilitiesJson() {
    }

    static Capabilities parse(byte[] utf8, int off, int len) throws MessageException {
        JsonNode root;
        try {
            root = MAPPER.readTree(utf8, off, len);
        } catch (IOException | RuntimeException e) {
            // Jackson reports bad UTF-8, bad syntax and exceeded stream constraints this way.
            throw Checks.inval("VERSION: malformed JSON: " + e.getClass().getSimpleName());
        }
        if (root == null || !root.isObject()) {
            throw Checks.inval("VERSION: version data is not a JSON object");
        }
        JsonNode caps = root.get("capabilities");
        if (caps == null) {
            return Capabilities.DEFAULTS;
        }
        if (!caps.isObject()) {
            throw Checks.inval("VERSION: capabilities is not an object");
        }
        long maxMsgFds = number(caps, "max_msg_fds", Capabilities.DEFAULT_MAX_MSG_FDS);
        if (maxMsgFds > Integer.MAX_VALUE) {
            throw Checks.inval("VERSION: max_msg_fds " + maxMsgFds + " is too large");
        }
        Capabilities c = new Capabilities((int) maxMsgFds,
                number(caps, "max_data_xfer_size", Capabilities.DEFAULT_MAX_DATA_XFER_SIZE),
                number(caps, "max_dma_maps", Capabilities.DEFAULT_MAX_DMA_MAPS),
                number(caps, "pgsizes", Capabilities.DEFAULT_PGSIZES),
                migration(caps.get("migration")),
                bool(caps, "write_multiple"),
                twinSocket(caps.get("twin_socket")));
        CapabilityBounds.check(c);
        return c;
    }

    static byte[] write(Capabilities c) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode caps = root.putObject("capabilities");
        caps.put("max_msg_fds", c.maxMsgFds());
        caps.put("max_data_xfer_size", c.maxDataXferSize());
        caps.put("max_dma_maps", c.maxDmaMaps());
        caps.put("pgsizes", c.pgsizes());
        c.migration().ifPresent(m -> caps.putObject("migration")
                .put("pgsize", m.pgsize()).put("max_bitmap_size", m.maxBitmapSize()));
        if (c.writeMultiple()) {
            caps.put("write_multiple", true);
        }
        c.twinSocket().ifPresent(t -> {
            ObjectNode o = caps.putObject("twin_socket").put("supported", t.supported());
            t.fdIndex().ifPresent(i -> o.put("fd_index", i));
        });
        try {
            return MAPPER.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise capabilities", e);
        }
    }

    private static Optional<Capabilities.Migration> migration(JsonNode n) throws MessageException {
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isObject()) {
            throw Checks.inval("VERSION: migration is not an object");
        }
        return Optional.of(new Capabilities.Migration(
                number(n, "pgsize", Capabilities.Migration.DEFAULT_PGSIZE),
                number(n, "max_bitmap_size", Capabilities.Migration.DEFAULT_MAX_BITMAP_SIZE)));
    }

    private static Optional<Capabilities.TwinSocket> twinSocket(JsonNode n) throws MessageException {
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isObject()) {
            throw Checks.inval("VERSION: twin_socket is not an object");
        }
        boolean supported = bool(n, "supported");
        OptionalInt fdIndex = OptionalInt.empty();
        if (n.has("fd_index")) {
            long i = number(n, "fd_index", 0);
            if (i > Integer.MAX_VALUE) {
                throw Checks.inval("VERSION: fd_index " + i + " is too large");
            }
            fdIndex = OptionalInt.of((int) i);
        }
        return Optional.of(new Capabilities.TwinSocket(supported, fdIndex));
    }

    private static long number(JsonNode obj, String key, long dflt) throws MessageException {
        JsonNode n = obj.get(key);
        if (n == null) {
            return dflt;
        }
        // Rule: a non-negative integer that fits a signed 64-bit value.
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw Checks.inval("VERSION: " + key + " is not a non-negative integer");
        }
        return n.asLong();
    }

    private static boolean bool(JsonNode obj, String key) throws MessageException {
        JsonNode n = obj.get(key);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw Checks.inval("VERSION: " + key + " is not a boolean");
        }
        return n.booleanValue();
    }
}
