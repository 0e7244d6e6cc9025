package io.vfu.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiConsumer;

/**
 * Invariants 3 to 5 of {@link AbuseFuzzTest}, checked device by device once the abuse has stopped: what a new
 * client gets while another client misbehaves on its own, and what a fresh client gets after the abuse. Each
 * failure goes to {@code failures} with its invariant's number; every wait is bounded.
 */
final class AfterAbuseChecks {

    /** How long a fresh client may take to be admitted (it retries while refused with EBUSY). */
    static final Duration ADMISSION = Duration.ofSeconds(30);
    /** How long a client may wait for the answer to its VERSION, and a fresh client for each reply. */
    static final Duration ANSWER = Duration.ofSeconds(10);

    private final List<FuzzDevice> devices;
    private final List<Path> sockets;
    private final String memfdName;
    private final Watchdog watchdog;
    private final MetricsProbe metrics;
    private final Random random;
    private final BiConsumer<Integer, String> failures;

    AfterAbuseChecks(List<FuzzDevice> devices, List<Path> sockets, String memfdName, Watchdog watchdog,
            MetricsProbe metrics, Random random, BiConsumer<Integer, String> failures) {
        this.devices = devices;
        this.sockets = sockets;
        this.memfdName = memfdName;
        this.watchdog = watchdog;
        this.metrics = metrics;
        this.random = random;
        this.failures = failures;
    }

    /**
     * Invariant 3 on device {@code i}: while a client that stopped reading holds it and the device keeps sending
     * to that client ({@link StoppedReader}), a new client's VERSION is answered, EBUSY (or admission, had the
     * server dropped the first), within {@link #ANSWER}.
     */
    void newClientAnsweredWhileAClientStopsReading(int i) throws Exception {
        FuzzDevice d = devices.get(i);
        long deadline = System.nanoTime() + ADMISSION.toNanos();
        try (StoppedReader stopped = StoppedReader.admit(sockets.get(i), watchdog, deadline, random.nextLong())) {
            if (stopped == null) {
                failures.accept(3, d.name() + ": no client was admitted within " + ADMISSION.toSeconds()
                        + " s after the abuse");
                return;
            }
            stopped.flood(ANSWER);
            // The connection outlives the wait for its answer, so an end of stream is the server's doing.
            try (RawConnection next = RawConnection.connect(sockets.get(i), watchdog,
                    System.nanoTime() + ANSWER.multipliedBy(2).toNanos())) {
                RawConnection.Answer a = next.negotiate(2, ANSWER, random.nextLong());
                if (a != RawConnection.Answer.BUSY && a != RawConnection.Answer.OK) {
                    failures.accept(3, d.name() + ": while a client that stopped reading held the device ("
                            + stopped.describe() + "), a new client's VERSION got " + a.describe() + " within "
                            + ANSWER.toSeconds() + " s (expected EBUSY, or admission)");
                }
            } catch (IOException e) {
                failures.accept(3, d.name() + ": a new client could not connect while a client that stopped reading "
                        + "held the device: " + e);
            }
        }
    }

    /**
     * Invariant 4 on device {@code i}: a fresh client is admitted within {@link #ADMISSION} and served (see
     * {@link #freshClientServed}).
     */
    void freshClientServed(int i) {
        freshClientServed(4, i, System.nanoTime() + ADMISSION.toNanos(), "");
    }

    /**
     * Invariant 5: a client that connects and sends nothing is admitted on every device (the sessions-opened
     * metric says when); a fresh client on each must then be admitted within {@link #ADMISSION} of it.
     */
    void silentClientsDoNotHoldDevices() throws Exception {
        List<RawConnection> silent = new ArrayList<>();
        try {
            List<Long> admittedAt = new ArrayList<>();
            for (int i = 0; i < devices.size(); i++) {
                RawConnection c = admitSilent(i);
                admittedAt.add(c == null ? null : System.nanoTime());
                if (c != null) {
                    silent.add(c);
                }
            }
            for (int i = 0; i < devices.size(); i++) {
                if (admittedAt.get(i) != null) {
                    freshClientServed(5, i, admittedAt.get(i) + ADMISSION.toNanos(), " since a client that sent "
                            + "nothing was admitted (no other client was connected)");
                }
            }
        } finally {
            silent.forEach(RawConnection::close);
        }
    }

    /** Connects clients that send nothing until one is admitted (not refused as busy); null after 30 s. */
    private RawConnection admitSilent(int i) throws Exception {
        FuzzDevice d = devices.get(i);
        Map<String, String> dev = Map.of("device", d.name());
        long deadline = System.nanoTime() + ADMISSION.toNanos();
        while (System.nanoTime() - deadline < 0) {
            Scrape before = metrics.scrape();
            RawConnection c = RawConnection.connect(sockets.get(i), watchdog,
                    deadline + ADMISSION.multipliedBy(2).toNanos());
            c.startReading(false, 0);
            long decideBy = System.nanoTime() + ANSWER.toNanos();
            while (System.nanoTime() - decideBy < 0) {
                Scrape now = metrics.scrape();
                if (now.sum("vfu_sessions_opened_total", dev) > before.sum("vfu_sessions_opened_total", dev)) {
                    return c;
                }
                if (now.sum("vfu_sessions_refused_total", dev) > before.sum("vfu_sessions_refused_total", dev)) {
                    break;
                }
                pollInterval();
            }
            c.close();
            pollInterval();
        }
        failures.accept(5, d.name() + ": no client was admitted within " + ADMISSION.toSeconds()
                + " s after the other checks");
        return null;
    }

    /**
     * A {@link GoodClient} on device {@code i} admitted by {@code deadline} (retrying while refused with EBUSY)
     * completes VERSION, the config read of its vendor/device ID, its set-up and one round.
     */
    private void freshClientServed(int invariant, int i, long deadline, String context) {
        FuzzDevice d = devices.get(i);
        int busy = 0;
        while (true) {
            try (GoodClient g = GoodClient.attach(sockets.get(i), d.id(), d.vector(), memfdName, ANSWER)) {
                g.round(random);
                return;
            } catch (GoodClient.BusyException e) {
                busy++;
                if (System.nanoTime() - deadline > 0) {
                    failures.accept(invariant, d.name() + ": a fresh client was refused with EBUSY " + busy
                            + " times until " + ADMISSION.toSeconds() + " s had passed" + context);
                    return;
                }
                pollInterval();
            } catch (Throwable t) {
                failures.accept(invariant, d.name() + ": a fresh client failed" + context + ": " + describe(t));
                return;
            }
        }
    }

    static String describe(Throwable t) {
        StringBuilder b = new StringBuilder(t.toString());
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            b.append(" <- ").append(c);
        }
        return b.toString();
    }

    /**
     * The interval between two attempts of a condition being polled. 100 ms rather than {@code Await}'s 5: each
     * attempt here is a metrics scrape or a new connection, work for the server under test.
     */
    static void pollInterval() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
