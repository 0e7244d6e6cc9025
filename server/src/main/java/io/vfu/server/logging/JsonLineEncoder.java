package io.vfu.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * Writes each log event as one JSON object on one line ({@code --log-format json}):
 * {@code time} (UTC, milliseconds), {@code level}, {@code logger}, {@code thread}, {@code message}, then the event's
 * key-values as top-level fields ({@link LogFields}: {@code device}, {@code client_pid}, {@code event}...), then
 * MDC entries not already written, then {@code exception} (the stack trace as one string) when there is one.
 *
 * <p>Logback's own {@code JsonEncoder} nests key-values in a list of one-entry objects and adds its context; this
 * shape lets {@code jq 'select(.event == "client_refused")'} and log shippers read fields directly.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final byte[] NOTHING = new byte[0];
    private final JsonFactory json = new JsonFactory();

    @Override
    public byte[] headerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] footerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = json.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", TIME.format(event.getInstant()));
            g.writeStringField("level", event.getLevel().toString());
            g.writeStringField("logger", event.getLoggerName());
            g.writeStringField("thread", event.getThreadName());
            g.writeStringField("message", event.getFormattedMessage());
            // Rule: a field appears once; the event's own key-values win over MDC entries of the same name.
            Set<String> written = new HashSet<>(List.of("time", "level", "logger", "thread", "message", "exception"));
            List<KeyValuePair> kvs = event.getKeyValuePairs();
            if (kvs != null) {
                for (KeyValuePair kv : kvs) {
                    if (kv.key != null && written.add(kv.key)) {
                        g.writeFieldName(kv.key);
                        value(g, kv.value);
                    }
                }
            }
            Map<String, String> mdc = event.getMDCPropertyMap();
            if (mdc != null) {
                for (Map.Entry<String, String> e : mdc.entrySet()) {
                    if (written.add(e.getKey())) {
                        g.writeStringField(e.getKey(), e.getValue());
                    }
                }
            }
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                g.writeStringField("exception", ThrowableProxyUtil.asString(thrown));
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** Numbers and booleans stay JSON numbers and booleans; anything else is its string form. */
    private static void value(JsonGenerator g, Object v) throws IOException {
        switch (v) {
            case null -> g.writeNull();
            case Integer i -> g.writeNumber(i);
            case Long l -> g.writeNumber(l);
            case Short s -> g.writeNumber(s);
            case Byte b -> g.writeNumber(b);
            case Boolean b -> g.writeBoolean(b);
            default -> g.writeString(v.toString());
        }
    }
}
