package io.vfu.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code --log-format json}: whatever a message holds (quotes, newlines, a stack trace), an event is one line
 * that parses as one JSON object, with the key-values as top-level fields of their own JSON types.
 */
class JsonLineEncoderTest {

    private final LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    private final Logger logger = context.getLogger("io.vfu.test");

    private JsonNode encode(LoggingEvent e) throws Exception {
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        String line = new String(encoder.encode(e), StandardCharsets.UTF_8);
        assertEquals(line.length() - 1, line.indexOf('\n'), "one line, ended by its only newline: " + line);
        return new ObjectMapper().readTree(line);
    }

    @Test
    void anEventWithQuotesNewlinesAndAStackTraceIsOneJsonLine() throws Exception {
        LoggingEvent e = new LoggingEvent("fqcn", logger, Level.WARN, "dev \"a\"\nsecond line {}",
                new IllegalStateException("boom"), new Object[] {7});
        e.addKeyValuePair(new org.slf4j.event.KeyValuePair(LogFields.CLIENT_PID, 4242L));
        e.addKeyValuePair(new org.slf4j.event.KeyValuePair(LogFields.EVENT, LogFields.CLIENT_REFUSED));
        JsonNode n = encode(e);
        assertEquals("WARN", n.get("level").asText());
        assertEquals("io.vfu.test", n.get("logger").asText());
        assertEquals("dev \"a\"\nsecond line 7", n.get("message").asText());
        assertTrue(n.get("client_pid").isNumber());
        assertEquals(4242L, n.get("client_pid").asLong());
        assertEquals("client_refused", n.get("event").asText());
        assertTrue(n.get("exception").asText().startsWith("java.lang.IllegalStateException: boom"),
                n.get("exception").asText());
    }

    @Test
    void aKeyValueWinsOverAnMdcEntryOfTheSameName() throws Exception {
        LoggingEvent e = new LoggingEvent("fqcn", logger, Level.INFO, "m", null, null);
        e.setMDCPropertyMap(Map.of(LogFields.DEVICE, "from-mdc", "other", "x"));
        e.addKeyValuePair(new org.slf4j.event.KeyValuePair(LogFields.DEVICE, "dev0"));
        JsonNode n = encode(e);
        assertEquals("dev0", n.get("device").asText());
        assertEquals("x", n.get("other").asText());
        assertFalse(n.has("exception"));
    }
}
