package io.vfu.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code /healthz} and {@code /readyz}: 200 with {@code ok}, or 503 with one line per part that is not ready.
 * Liveness is answered by the process being able to answer at all.
 *
 * @param readiness what is not ready now ({@link Readiness#ALWAYS} for liveness)
 */
record HealthHandler(Readiness readiness) implements HttpHandler {

    /** Bounds the body: a server of 1,000 broken devices still answers in a few kilobytes. */
    private static final int MAX_LINES = 20;

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        List<String> problems = readiness.notReady();
        StringBuilder body = new StringBuilder();
        if (problems.isEmpty()) {
            body.append("ok\n");
        } else {
            body.append("not ready: ").append(problems.size()).append('\n');
            problems.stream().limit(MAX_LINES).forEach(p -> body.append(p).append('\n'));
            if (problems.size() > MAX_LINES) {
                body.append("... and ").append(problems.size() - MAX_LINES).append(" more\n");
            }
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        int status = problems.isEmpty() ? 200 : 503;
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
