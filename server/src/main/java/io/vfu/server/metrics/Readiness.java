package io.vfu.server.metrics;

import java.util.List;

/** What {@code /readyz} asks: which parts of the server cannot serve a client now. */
@FunctionalInterface
public interface Readiness {

    /** Ready whatever happens: for an endpoint that serves no devices. */
    Readiness ALWAYS = List::of;

    /** One short line per part that is not ready (e.g. {@code dev3: /run/vfu/dev3.sock is not listening}); empty when all are. */
    List<String> notReady();
}
