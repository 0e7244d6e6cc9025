package io.vfu.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Reads a server's {@code /metrics} with one HTTP/1.0 request per scrape: the server closes the connection
 * after answering, so a scrape leaves no keep-alive connection (an fd) behind in the server, as a pooled
 * HTTP/1.1 client would.
 */
final class MetricsProbe {

    private final URI uri;
    private final Duration timeout;

    MetricsProbe(URI uri, Duration timeout) {
        this.uri = uri;
        this.timeout = timeout;
    }

    Scrape scrape() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(("GET " + uri.getPath() + " HTTP/1.0\r\nHost: " + uri.getHost() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int body = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.") || !response.substring(0, response.indexOf('\r')).contains(" 200")
                    || body < 0) {
                throw new IOException("metrics answered: " + response.lines().findFirst().orElse("(nothing)"));
            }
            return Scrape.parse(response.substring(body + 4));
        }
    }
}
