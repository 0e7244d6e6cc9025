package io.vfu.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A server process's fd, thread and mapping counts at one moment, plus how many mappings of the test's memfds
 * it has, and the same by kind for messages ({@link ProcessResources}); {@code held}: the counts had stopped
 * moving when read.
 *
 * <p>{@code mappings} leaves out the mappings inside the JVM's metaspace ({@link ServerProcess#metaspace()},
 * counted apart in {@code metaspaceMappings}): the JVM commits class metadata piece by piece as classes load,
 * and the kernel keeps each piece a mapping of its own, so their number follows which code paths have run for
 * the first time (a stack trace logged, a branch first taken), not what the server holds. Everything else
 * counts: the server's own mmaps (DMA windows of any fd), thread stacks, heap, code cache, libraries.
 */
record ResourceSnapshot(int fds, int threads, int mappings, int metaspaceMappings, int memfdMappings,
                        Map<String, Long> threadNames, Map<String, Long> fdKinds, Map<String, Long> mappingKinds,
                        List<String> maps, boolean held) {

    private static final long POLL_MILLIS = 100;

    static ResourceSnapshot of(ServerProcess server, String memfdName) {
        ProcessResources p = server.resources();
        List<String> maps = p.mappingLines();
        List<ServerProcess.AddressRange> metaspace = server.metaspace();
        List<String> counted = maps.stream().filter(l -> metaspace.stream().noneMatch(r -> r.holds(l))).toList();
        return new ResourceSnapshot(p.fds(), p.threads(), counted.size(), maps.size() - counted.size(),
                (int) maps.stream().filter(l -> l.contains("/memfd:" + memfdName)).count(), p.threadNames(),
                p.fdKinds(), ProcessResources.mappingKinds(counted), maps, true);
    }

    /**
     * Reads the counts the way both sides of the comparison are read: runs {@code loneSession} (one client
     * connects and disconnects, and the server has closed its session), then polls until the counts have held
     * still for {@code quiet}, for up to {@code timeout} (after which the last reading is returned).
     *
     * <p>Why the lone session: glibc unmaps an exited thread's stack only at the next thread exit (with the
     * stack cache off, each exit frees every stack whose thread has gone, except its own, still in use). After a
     * burst of threads ending at once, more than one such stack can remain mapped until some thread exits; after
     * one lone session thread has ended, exactly its own does. The same session's admission runs on the server's
     * virtual-thread carrier, which the JDK retires after 30 s without work (a keep-alive fixed in its
     * scheduler) and starts again on demand, so the carrier is there on both sides.
     *
     * @return the reading, with {@link #held} false if the counts were still moving at the timeout
     */
    static ResourceSnapshot measure(ServerProcess p, String memfdName, Runnable loneSession, Duration quiet,
            Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        loneSession.run();
        ResourceSnapshot last = of(p, memfdName);
        long stableSince = System.nanoTime();
        while (System.nanoTime() - stableSince < quiet.toNanos()) {
            if (System.nanoTime() - deadline > 0) {
                return last.moving();
            }
            Thread.sleep(POLL_MILLIS);
            ResourceSnapshot now = of(p, memfdName);
            if (!now.sameCounts(last)) {
                stableSince = System.nanoTime();
            }
            last = now;
        }
        return last;
    }

    /**
     * {@link #measure}s until the counts equal {@code baseline}'s, for up to {@code timeout}; returns the last
     * reading. Prints each reading that differs, for the record of how the server settled.
     */
    static ResourceSnapshot awaitEqual(ServerProcess p, String memfdName, ResourceSnapshot baseline,
            Runnable loneSession, Duration quiet, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        ResourceSnapshot now;
        ResourceSnapshot shown = null;
        while (!(now = measure(p, memfdName, loneSession, quiet, timeout)).sameCounts(baseline)
                && System.nanoTime() - deadline < 0) {
            if (shown == null || !now.sameCounts(shown)) {
                System.out.println("settling, " + (System.nanoTime() - start) / 1_000_000 + " ms:\n"
                        + now.describeDifference(baseline));
                shown = now;
            }
        }
        return now;
    }

    private ResourceSnapshot moving() {
        return new ResourceSnapshot(fds, threads, mappings, metaspaceMappings, memfdMappings, threadNames, fdKinds,
                mappingKinds, maps, false);
    }

    boolean sameCounts(ResourceSnapshot o) {
        return fds == o.fds && threads == o.threads && mappings == o.mappings && memfdMappings == o.memfdMappings;
    }

    /** Each count against the baseline's, with what changed by kind. */
    String describeDifference(ResourceSnapshot baseline) {
        return "  fds " + baseline.fds + " -> " + fds + " " + ProcessResources.difference(baseline.fdKinds, fdKinds)
                + "\n  threads " + baseline.threads + " -> " + threads + " "
                + ProcessResources.difference(baseline.threadNames, threadNames)
                + "\n  mappings outside metaspace " + baseline.mappings + " -> " + mappings + " "
                + ProcessResources.difference(baseline.mappingKinds, mappingKinds) + " (in metaspace, not compared: "
                + baseline.metaspaceMappings + " -> " + metaspaceMappings + ")"
                + "\n  mappings of the test's memfds " + baseline.memfdMappings + " -> " + memfdMappings;
    }

    @Override
    public String toString() {
        return "fds " + fds + ", threads " + threads + ", mappings " + mappings + " (+ " + metaspaceMappings
                + " in metaspace), test memfd mappings " + memfdMappings + (held ? "" : " (still moving)");
    }
}
