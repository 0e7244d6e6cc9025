package io.vfu.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one server series the soak cross-checks: IMS interrupts the device delivered at unmask. */
final class GuestMetrics {
    private static final Pattern SAMPLE = Pattern.compile(
            "(?m)^vfu_interrupts_delivered_on_unmask_total\\{([^}]*)\\} (\\S+)$");

    private GuestMetrics() {
    }

    /** The IMS series of {@code device}; NaN if the scrape has none. */
    static double imsDeliveredOnUnmask(URI metrics, String device) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("GET " + metrics + ": HTTP " + r.statusCode());
            }
            return parse(r.body(), device);
        }
    }

    static double parse(String exposition, String device) {
        Matcher m = SAMPLE.matcher(exposition);
        while (m.find()) {
            if (m.group(1).contains("index=\"IMS\"") && m.group(1).contains("device=\"" + device + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }
}
