package io.vfu.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/**
 * Guards one read-only resource: its exact path only ({@code 404} otherwise, as the JDK server matches contexts
 * by prefix), and {@code GET} or {@code HEAD} only ({@code 405} otherwise). The request body is never read.
 *
 * @param path the resource's path
 * @param next what serves it
 */
record GetOnly(String path, HttpHandler next) implements HttpHandler {

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            String method = exchange.getRequestMethod();
            // Rule: only GET (and HEAD) read a resource here; anything else is 405.
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            next.handle(exchange);
        }
    }
}
