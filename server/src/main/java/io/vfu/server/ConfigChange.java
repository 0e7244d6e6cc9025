package io.vfu.server;

import io.vfu.server.config.DeviceSpec;
import io.vfu.server.config.ServerConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * What re-reading the configuration (SIGHUP) changes: devices added, devices removed, entries that changed and
 * need a restart to take effect ({@code "server"} for the server-wide keys), and additions that failed.
 *
 * @param added         devices new in the file, started
 * @param removed       devices no longer in the file, retired (their socket goes now, the device once its client
 *                      has detached)
 * @param restartNeeded devices whose entry changed (socket, type, settings, access) and, as {@code "server"},
 *                      changed server-wide keys: reported, not applied
 * @param failed        additions that could not start, each with why
 */
public record ConfigChange(List<String> added, List<String> removed, List<String> restartNeeded,
                           List<String> failed) {

    public ConfigChange {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        restartNeeded = List.copyOf(restartNeeded);
        failed = List.copyOf(failed);
    }

    /** Compares the configuration serving now with {@code next}; a name still being retired is not re-added. */
    static ConfigChange between(ServerConfig now, ServerConfig next, Predicate<String> retiring) {
        Map<String, DeviceSpec> before = byName(now);
        Map<String, DeviceSpec> after = byName(next);
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (String name : after.keySet()) {
            DeviceSpec old = before.get(name);
            if (old == null) {
                if (retiring.test(name)) {
                    failed.add(name + ": still serving its last client after it was removed; send SIGHUP again once "
                            + "it has detached");
                } else {
                    added.add(name);
                }
            } else if (!old.equals(after.get(name)) || !now.socketAccess(old).equals(next.socketAccess(after.get(name)))) {
                changed.add(name);
            }
        }
        for (String name : before.keySet()) {
            if (!after.containsKey(name)) {
                removed.add(name);
            }
        }
        if (!Objects.equals(now.allowedUids(), next.allowedUids()) || !Objects.equals(now.allowedGids(), next.allowedGids())
                || !Objects.equals(now.metricsPort(), next.metricsPort()) || !Objects.equals(now.limits(), next.limits())
                || !Objects.equals(now.socketMode(), next.socketMode())
                || !Objects.equals(now.socketGroup(), next.socketGroup())) {
            changed.add("server");
        }
        return new ConfigChange(added, removed, changed, failed);
    }

    /** The configuration that serves after this change: {@code now} with the additions and removals applied. */
    ServerConfig applied(ServerConfig now, ServerConfig next) {
        List<DeviceSpec> devices = new ArrayList<>();
        for (DeviceSpec d : now.devices()) {
            if (!removed.contains(d.name())) {
                devices.add(d);
            }
        }
        for (DeviceSpec d : next.devices()) {
            if (added.contains(d.name())) {
                devices.add(d);
            }
        }
        return new ServerConfig(devices, now.allowedUids(), now.metricsPort(), now.allowedGids(), now.socketMode(),
                now.socketGroup(), now.limits());
    }

    /** The same change with {@code more} additions that failed to start (no longer counted as added). */
    ConfigChange withFailures(List<String> more) {
        List<String> stillAdded = new ArrayList<>(added);
        stillAdded.removeIf(name -> more.stream().anyMatch(f -> f.startsWith(name + ": ")));
        List<String> all = new ArrayList<>(failed);
        all.addAll(more);
        return new ConfigChange(stillAdded, removed, restartNeeded, all);
    }

    private static Map<String, DeviceSpec> byName(ServerConfig c) {
        Map<String, DeviceSpec> m = new LinkedHashMap<>();
        for (DeviceSpec d : c.devices()) {
            m.put(d.name(), d);
        }
        return m;
    }
}
