package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients against the real server process ({@code java -jar server/target/vfu-server.jar --config FILE},
 * three devices on their own sockets) for a bounded time, in the manner of a fuzzer, while one well-behaved
 * client keeps using one device. Everything random comes from one seed, printed at the start; {@code
 * -Dvfu.fuzz.seed=N} repeats a run's choices and {@code -Dvfu.fuzz.seconds=N} sets the length of the abuse
 * (default 20). What a seed fixes: each thread's sequence of actions, each with its kind, device and own seed
 * (listed in {@code target/abuse-fuzz/SEED.actions}), so the same seed replays the same attempts; what the
 * server answered, and so how far an action got, and how the threads interleave, may differ between runs.
 *
 * <p>The abuse (four threads, {@link Abuser} and {@link DeviceAbuse}): random bytes; well-formed messages of
 * every command, unknown commands and replies posing as commands, a third of them mutated ({@link
 * MessageFuzzer}); fds of every kind on any message, up to 253 of them ({@link FdZoo}); driver-like sessions with
 * memfd windows (some truncated after mapping), eventfds and other fds as interrupt targets, IMS, doorbells and
 * the DMA engine running descriptors that point anywhere; disconnects at any point, clients that say nothing,
 * clients that stop reading while the device sends to them, storms of clients on one device, floods of DMA maps.
 * Device 0 is held by the well-behaved client throughout, so the abuse there is many clients on a busy device.
 *
 * <p>Invariants, checked after the abuse (every failure is reported, each naming the seed):
 * <ol>
 *   <li>the server process is alive;</li>
 *   <li>the well-behaved client ({@link GoodClient}: ID registers, scratch round trip, doorbell interrupt, DMA
 *       engine copies by mmap and by message, each with its record and interrupt) got correct answers in every
 *       round, within 10 s each;</li>
 *   <li>while a client that stopped reading holds a device that keeps sending to it ({@link StoppedReader}), a
 *       new client on that device is still answered (EBUSY, or admission if the server dropped the first)
 *       within 10 s;</li>
 *   <li>a fresh client on every device is admitted within 30 s and completes VERSION, the 4-byte config read of
 *       its vendor/device ID (0x1b5a, device 1, 2 or 3) and a full {@link GoodClient} round;</li>
 *   <li>a client that connects and sends nothing does not hold a device for good: with one admitted on every
 *       device (the sessions-opened metric shows it), a fresh client on each is admitted within 30 s and served
 *       as in 4;</li>
 *   <li>once every client is gone, the server's fd count ({@code /proc/PID/fd}), thread count
 *       ({@code /proc/PID/task}) and mapping count ({@code /proc/PID/maps}, outside the JVM's metaspace: see
 *       {@link ResourceSnapshot}) equal the baseline exactly, no mapping of the test's memfds
 *       ({@code /memfd:vfu-fuzz-... (deleted)}) is left, and every session opened was closed. The counts are
 *       read as {@link ResourceSnapshot#measure} says, until equal, for up to 60 s (a refused client's
 *       connection lives up to 5 s, a server-to-client request up to 10 s);</li>
 *   <li>no unchecked exception or error shows in the server's log ({@link StackTraces}): whatever a client sends,
 *       the server answers it, refuses it or ends that session, and never fails inside (such as a DMA worker
 *       that throws on a descriptor LAYOUT.md says must complete with an error status).</li>
 * </ol>
 *
 * <p>Why exact counts can be compared. The baseline is taken after a warm-up that runs, on every device, the
 * paths that create threads and mappings once and keep them (a session's reader, the device's DMA worker, the
 * request-timeout timer of server-to-client requests, the virtual-thread carrier and its delay scheduler behind
 * admission and refusal, the metrics endpoint's thread). What would still move on its own is pinned by how the
 * server is started ({@link ServerProcess}): the heap committed at once; a fixed set of JIT compiler threads;
 * one virtual-thread carrier; one malloc arena and no mmap from malloc (glibc would otherwise add arenas per
 * thread and map large blocks, which the JVM frees only when its GC gets round to them); no cache of exited
 * threads' stacks (glibc would otherwise keep up to 40 MiB of them mapped). Mappings inside the metaspace are
 * left out of the count: the JVM commits class metadata in pieces, each a mapping, as classes first load, and
 * which rarely taken path a run reaches first after the baseline is chance. Both readings are taken the same
 * way ({@link ResourceSnapshot#measure}): right after one lone client session (which leaves exactly one exited
 * thread's stack not yet unmapped, and the carrier, which the JDK retires after 30 s idle, running), once the
 * counts have held still for 2 s. With those, a count that differs from the baseline is something the server
 * holds, and the failure lists what, by kind.
 */
class AbuseFuzzTest {

    private static final int WORKERS = 4;
    private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration ANSWER = AfterAbuseChecks.ANSWER;
    private static final Duration SETTLE = Duration.ofSeconds(60);
    /** How long the counts must hold still to be read. */
    private static final Duration QUIET = Duration.ofSeconds(2);
    /** Where each run's server stderr (and, on failure, its maps) are kept: the module's build folder. */
    private static final Path KEPT_STDERR = Path.of("target", "abuse-fuzz");

    private static final List<FuzzDevice> DEVICES = FuzzDevice.ALL;

    @TempDir
    Path dir;

    private long seed;
    /** The server of the running test, for the test method to stop whatever happens in {@link #run}. */
    private volatile ServerProcess running;
    private final List<String> failures = new ArrayList<>();

    @Test
    void hostileClientsLeaveTheServerServingEveryDeviceAndHoldingNothing() throws Exception {
        seed = Long.getLong("vfu.fuzz.seed", new Random().nextLong());
        int seconds = Integer.getInteger("vfu.fuzz.seconds", 20);
        System.out.println("AbuseFuzzTest seed=" + seed + " seconds=" + seconds + " (repeat with -Dvfu.fuzz.seed="
                + seed + " -Dvfu.fuzz.seconds=" + seconds + ")");
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(seconds + 400), () -> run(seconds),
                    () -> "[seed " + seed + "] the test overran every bound it sets itself: a wait is unbounded");
        } finally {
            ServerProcess s = running;
            if (s != null) {
                s.close(); // Rule: no server outlives the test, even one whose thread was abandoned on timeout.
            }
        }
    }

    private void run(int seconds) throws Exception {
        List<Path> sockets = new ArrayList<>();
        List<String> entries = new ArrayList<>();
        for (FuzzDevice d : DEVICES) {
            sockets.add(dir.resolve(d.name() + ".sock"));
            entries.add(d.json().formatted(sockets.getLast()));
        }
        Path config = Files.writeString(dir.resolve("vfu.json"), "{\"devices\": [" + String.join(",", entries) + "]}");
        Path tmp = Files.createDirectories(dir.resolve("files"));
        for (int i = 0; i < FdZoo.TEMP_FILES; i++) {
            Files.createFile(tmp.resolve("file-" + i));
        }
        String memfdName = "vfu-fuzz-" + Long.toHexString(seed);
        Random random = new Random(seed);
        try (ServerProcess server = started(ServerProcess.start(config, dir, KEPT_STDERR, Duration.ofSeconds(30)));
             Watchdog watchdog = new Watchdog();
             PeerEnds peerEnds = new PeerEnds()) {
            MetricsProbe metrics = server.metrics();
            long t0 = System.nanoTime();
            try {
                warmUp(sockets, memfdName, watchdog, metrics, random);
            } catch (Exception | AssertionError e) {
                throw new AssertionError("[seed " + seed + "] the warm-up, before any abuse, failed: " + e
                        + "\nserver stderr, errors seen:\n" + server.stderrErrors(12), e);
            }
            Runnable lone = loneSession(sockets.getFirst(), DEVICES.getFirst().name(), watchdog, metrics);
            ResourceSnapshot baseline = ResourceSnapshot.measure(server, memfdName, lone, QUIET, Duration.ofSeconds(30));
            if (!baseline.held()) {
                fail("[seed " + seed + "] the server's counts did not hold still for " + QUIET.toSeconds()
                        + " s within 30 s after the warm-up: " + baseline);
            }
            System.out.println("baseline after warm-up (" + ms(t0) + " ms): " + baseline);

            FuzzContext ctx = new FuzzContext(sockets, watchdog, peerEnds, tmp, memfdName,
                    System.nanoTime() + seconds * 1_000_000_000L, server::isAlive);
            AtomicInteger rounds = new AtomicInteger();
            AtomicReference<Throwable> goodFailure = new AtomicReference<>();
            long goodSeed = random.nextLong();
            Thread good = Thread.ofPlatform().name("fuzz-good-client").start(() -> wellBehaved(ctx, memfdName,
                    goodSeed, rounds, goodFailure));
            List<Abuser> abusers = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < WORKERS; i++) {
                Abuser a = new Abuser(ctx, "abuser-" + i, random.nextLong());
                abusers.add(a);
                threads.add(Thread.ofPlatform().name("fuzz-abuser-" + i).start(a));
            }
            // Every action's connections end by the abuse's end (the watchdog closes them), so the threads follow.
            long joinBy = ctx.abuseEnd() + Duration.ofSeconds(30).toNanos();
            for (Thread t : threads) {
                if (!t.join(Duration.ofNanos(Math.max(1, joinBy - System.nanoTime())))) {
                    fail("[seed " + seed + "] fuzzer thread " + t.getName() + " did not stop within 30 s of the end");
                }
            }
            good.join(Duration.ofNanos(Math.max(1, joinBy - System.nanoTime())));
            for (Abuser a : abusers) {
                if (a.failure() != null) {
                    throw new AssertionError("[seed " + seed + "] the fuzzer itself failed", a.failure());
                }
            }
            System.out.println("abuse done: " + new TreeMap<>(ctx.counters()) + "; well-behaved rounds " + rounds
                    + "; the actions are listed in " + keep(ctx.actions(), "actions"));

            alive(server, "after the abuse");
            if (good.isAlive()) {
                record(2, "the well-behaved client on dev0 did not finish its round by the end of the abuse");
            } else if (goodFailure.get() != null) {
                record(2, "the well-behaved client on dev0 was not served correctly after " + rounds.get()
                        + " good rounds: " + AfterAbuseChecks.describe(goodFailure.get()));
            } else if (rounds.get() == 0) {
                record(2, "the well-behaved client on dev0 completed no round during the abuse");
            }
            AfterAbuseChecks checks = new AfterAbuseChecks(DEVICES, sockets, memfdName, watchdog, metrics, random,
                    this::record);
            for (int i = 1; i < DEVICES.size(); i++) {
                checks.newClientAnsweredWhileAClientStopsReading(i);
            }
            for (int i = 0; i < DEVICES.size(); i++) {
                checks.freshClientServed(i);
            }
            checks.silentClientsDoNotHoldDevices();
            peerEnds.close();
            alive(server, "after the end checks");

            long t1 = System.nanoTime();
            ResourceSnapshot end = ResourceSnapshot.awaitEqual(server, memfdName, baseline, lone, QUIET, SETTLE);
            if (!end.sameCounts(baseline)) {
                record(6, "resources did not return to the baseline within " + SETTLE.toSeconds() + " s:\n"
                        + end.describeDifference(baseline) + "\n  (both maps are in " + keep(baseline.maps(),
                        "maps.baseline") + " and " + keep(end.maps(), "maps.end") + ")");
            } else {
                System.out.println("resources back at the baseline after " + ms(t1) + " ms: " + end);
            }
            Scrape s = metrics.scrape();
            for (FuzzDevice d : DEVICES) {
                Map<String, String> dev = Map.of("device", d.name());
                double opened = s.sum("vfu_sessions_opened_total", dev);
                double closed = s.sum("vfu_sessions_closed_total", dev);
                if (opened != closed) {
                    record(6, d.name() + ": " + opened + " sessions opened but " + closed + " closed");
                }
            }
            Map<String, Integer> bugs = StackTraces.unchecked(server.stderrLines());
            if (!bugs.isEmpty()) {
                record(7, "the server's log shows " + bugs.values().stream().mapToInt(Integer::intValue).sum()
                        + " unchecked exception(s) or error(s) (bugs, not a client's doing), by kind: " + bugs);
            }
            if (!failures.isEmpty()) {
                fail("[seed " + seed + "] " + failures.size() + " invariant(s) failed (repeat with -Dvfu.fuzz.seed="
                        + seed + "):\n- " + String.join("\n- ", failures) + "\nserver stderr, errors seen (all of it in "
                        + KEPT_STDERR.resolve(seed + ".server.stderr") + "):\n" + server.stderrErrors(12));
            }
        } finally {
            keepServerStderr();
        }
    }

    /** Writes {@code lines} to the kept folder as {@code SEED.suffix}; returns the path. */
    private Path keep(List<String> lines, String suffix) {
        Path p = KEPT_STDERR.resolve(seed + "." + suffix);
        try {
            Files.createDirectories(KEPT_STDERR);
            Files.write(p, lines);
        } catch (java.io.IOException e) {
            System.out.println("could not keep " + p + ": " + e);
        }
        return p;
    }

    /** The server's stderr outlives the temp folder, for a failure's reader. */
    private void keepServerStderr() {
        try {
            Files.createDirectories(KEPT_STDERR);
            Files.copy(dir.resolve("server.stderr"), KEPT_STDERR.resolve(seed + ".server.stderr"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            System.out.println("could not keep the server's stderr: " + e);
        }
    }

    private ServerProcess started(ServerProcess s) {
        running = s;
        return s;
    }

    /** Invariant 1: the process lives (if not, nothing else can be checked: fails at once, with what was found). */
    private void alive(ServerProcess server, String when) {
        if (!server.isAlive()) {
            fail("[seed " + seed + "] invariant 1: the server process " + server.state() + " " + when
                    + (failures.isEmpty() ? "" : "; found before: " + failures) + "\nserver stderr, errors seen "
                    + "(all of it in " + KEPT_STDERR.resolve(seed + ".server.stderr") + ", a JVM crash report in "
                    + KEPT_STDERR + "):\n" + server.stderrErrors(12) + "\nserver stderr (tail):\n"
                    + server.stderrTail(20));
        }
    }

    /**
     * Runs on every device the paths that create what a server keeps for good: sessions with mmap and message
     * DMA, interrupts, a refused second client, a client that sends garbage, one that says nothing, a scrape.
     */
    private void warmUp(List<Path> sockets, String memfdName, Watchdog watchdog, MetricsProbe metrics,
            Random random) throws Exception {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < DEVICES.size(); i++) {
                FuzzDevice d = DEVICES.get(i);
                try (GoodClient g = GoodClient.attach(sockets.get(i), d.id(), d.vector(), memfdName, ROUND_TIMEOUT)) {
                    g.round(random);
                    try (RawConnection second = RawConnection.connect(sockets.get(i), watchdog,
                            System.nanoTime() + ANSWER.multipliedBy(2).toNanos())) {
                        RawConnection.Answer a = second.negotiate(1, ANSWER, random.nextLong());
                        if (a != RawConnection.Answer.BUSY) {
                            fail("[seed " + seed + "] warm-up: a second client on " + d.name() + " got " + a
                                    + ", not EBUSY");
                        }
                    }
                    g.round(random);
                }
                try (RawConnection junk = RawConnection.connect(sockets.get(i), watchdog,
                        System.nanoTime() + ANSWER.toNanos())) {
                    junk.startReading(false, 0);
                    junk.send(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
                }
                RawConnection.connect(sockets.get(i), watchdog, System.nanoTime() + ANSWER.toNanos()).close();
            }
            metrics.scrape();
        }
    }

    /**
     * One client connects and disconnects, and the server's sessions-closed count for the device shows the
     * session has ended (see {@link ResourceSnapshot#measure} for why counts are read after one).
     */
    private Runnable loneSession(Path socket, String device, Watchdog watchdog, MetricsProbe metrics) {
        Map<String, String> dev = Map.of("device", device);
        return () -> {
            try {
                double closed = metrics.scrape().sum("vfu_sessions_closed_total", dev);
                RawConnection.connect(socket, watchdog, System.nanoTime() + ANSWER.toNanos()).close();
                long deadline = System.nanoTime() + ANSWER.toNanos();
                while (metrics.scrape().sum("vfu_sessions_closed_total", dev) <= closed
                        && System.nanoTime() - deadline < 0) {
                    AfterAbuseChecks.pollInterval();
                }
            } catch (java.io.IOException e) {
                System.out.println("the lone session before reading the counts failed: " + e);
            }
        };
    }

    /** Invariant 2's client: rounds on dev0 until the abuse ends; the first failure stops it. */
    private void wellBehaved(FuzzContext ctx, String memfdName, long roundSeed, AtomicInteger rounds,
            AtomicReference<Throwable> failure) {
        Random random = new Random(roundSeed);
        FuzzDevice d = DEVICES.getFirst();
        try (GoodClient g = GoodClient.attach(ctx.sockets().getFirst(), d.id(), d.vector(), memfdName,
                ROUND_TIMEOUT)) {
            while (!ctx.over()) {
                g.round(random);
                rounds.incrementAndGet();
                Thread.sleep(10); // pacing, so that the abusers get most of the two shared cores
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private void record(int invariant, String what) {
        failures.add("invariant " + invariant + ": " + what);
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
