package io.vfu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The counter is found among other series and read exactly, as Prometheus prints a double. */
class MetricsScraperTest {

    @Test
    void readsTheUnlabelledSampleAmongOthers() throws IOException {
        String text = """
                # HELP vfu_jvm_allocated_bytes_total Bytes allocated on the Java heap by all threads
                # TYPE vfu_jvm_allocated_bytes_total counter
                vfu_jvm_allocated_bytes_total 2.4128592E7
                vfu_sessions_opened_total{device="default"} 1.0
                """;
        assertEquals(24_128_592L, MetricsScraper.parse(text));
    }

    @Test
    void missingOrUnmeasuredCounterFails() {
        assertThrows(IOException.class, () -> MetricsScraper.parse("vfu_sessions_opened_total 1.0\n"));
        assertThrows(IOException.class, () -> MetricsScraper.parse("vfu_jvm_allocated_bytes_total NaN\n"));
    }
}
