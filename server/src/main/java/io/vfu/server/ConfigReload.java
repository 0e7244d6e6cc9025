package io.vfu.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vfu.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * SIGHUP: re-reads the {@code --config} file and applies it ({@link VfuServer#reload}). A file that does not
 * load is reported and changes nothing; the server keeps serving what it served. Counted in
 * {@code vfu_config_reloads_total{result}}; a device (or {@code "server"}) whose entry changed is reported as
 * {@code vfu_config_restart_needed{device} 1} until the process restarts.
 */
public final class ConfigReload {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConfigReload.class);

    private final VfuServer server;
    private final Path file;
    private final Counter ok;
    private final Counter failed;
    private final MeterRegistry registry;
    private final Set<String> restartNeeded = ConcurrentHashMap.newKeySet();
    /** Rule: one reload at a time, off the signal thread, in the order the signals came. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("vfu-reload").factory());

    public ConfigReload(VfuServer server, Path file) {
        this.server = server;
        this.file = file;
        this.registry = server.registry();
        this.ok = Counter.builder("vfu.config.reloads").tag("result", "ok")
                .description("Re-reads of the configuration (SIGHUP), by result").register(registry);
        this.failed = Counter.builder("vfu.config.reloads").tag("result", "error")
                .description("Re-reads of the configuration (SIGHUP), by result").register(registry);
    }

    /** Handles SIGHUP from now on (replacing the JVM's default, which would exit with 129). */
    public void onSighup() {
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> worker.execute(this::reloadNow));
    }

    /** Re-reads the file and applies it now; returns what changed, or null when the file did not load. */
    public ConfigChange reloadNow() {
        ServerConfig next;
        try {
            next = ServerConfig.load(file);
        } catch (Exception e) {
            failed.increment();
            LOG.error("SIGHUP: {} not applied, still serving the previous configuration: {}", file, e.getMessage());
            return null;
        }
        ConfigChange change = server.reload(next);
        ok.increment();
        LOG.info("SIGHUP: {} re-read: added {}, removed {}{}", file, change.added(), change.removed(),
                change.removed().isEmpty() ? "" : " (each goes once its client has detached)");
        for (String name : change.restartNeeded()) {
            LOG.warn("SIGHUP: {} changed in {}; restart vfu-server to apply (still serving as before)",
                    "server".equals(name) ? "server-wide keys" : "device " + name, file);
            if (restartNeeded.add(name)) {
                Gauge.builder("vfu.config.restart.needed", () -> 1).tag("device", name)
                        .description("1 for a device (or server) whose configuration changed and needs a restart")
                        .register(registry);
            }
        }
        for (String f : change.failed()) {
            LOG.error("SIGHUP: not added: {}", f);
        }
        return change;
    }
}
