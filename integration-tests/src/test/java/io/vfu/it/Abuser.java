package io.vfu.it;

import static io.vfu.it.WireMessages.*;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import io.vfu.transport.nativeio.NativeCallException;

/**
 * One fuzzing thread: until the abuse ends it picks an action, a device and the action's own seed from its
 * seeded schedule, and runs it; so the sequence of actions a seed gives never depends on how earlier ones
 * fared, and each is recorded ({@link FuzzContext#trace}). The actions here work at the protocol level: random bytes, sessions of random
 * and mutated messages with random fds attached, clients that connect and say nothing or half a message, many
 * clients at once, and messages carrying more fds than {@code max_msg_fds}. The device-level ones are in
 * {@link DeviceAbuse}. Every connection is guarded by the {@link Watchdog}, so an action ends by its deadline
 * whatever the server does; an {@link IOException} (the server or the watchdog closed the connection, a
 * connect timed out) is an expected outcome and only counted.
 */
final class Abuser implements Runnable {

    private static final int[] NO_FDS = new int[0];

    private final FuzzContext ctx;
    private final String name;
    /** Picks the actions: their kind, device and seed, whatever their outcomes. */
    private final Random schedule;
    /** The running action's randomness, from its own seed (so an outcome never shifts a later action). */
    private Random random;
    private MessageFuzzer fuzz;
    private DeviceAbuse device;
    private volatile Throwable failure;

    Abuser(FuzzContext ctx, String name, long seed) {
        this.ctx = ctx;
        this.name = name;
        this.schedule = new Random(seed);
    }

    /** What went wrong in the fuzzer itself (a test bug, not a server outcome), or null. */
    Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        try {
            for (int n = 0; !ctx.over(); n++) {
                int d = pickDevice();
                int pick = schedule.nextInt(100);
                long seed = schedule.nextLong();
                String action = pick < 12 ? "garbage" : pick < 40 ? "mutated session" : pick < 62 ? "device session"
                        : pick < 70 ? "idle client" : pick < 78 ? "client that stops reading" : pick < 84 ? "storm"
                        : pick < 93 ? "fd flood" : "map flood";
                ctx.trace(name + " #" + n + " " + action + " on " + ctx.sockets().get(d).getFileName() + " seed "
                        + seed);
                random = new Random(seed);
                fuzz = new MessageFuzzer(random);
                device = new DeviceAbuse(ctx, random, fuzz, this);
                Path socket = ctx.sockets().get(d);
                try {
                    switch (action) {
                        case "garbage" -> garbage(socket);
                        case "mutated session" -> mutatedSession(socket);
                        case "device session" -> device.session(socket);
                        case "idle client" -> idle(socket);
                        case "client that stops reading" -> device.stopReading(socket);
                        case "storm" -> storm(socket);
                        case "fd flood" -> fdFlood(socket);
                        default -> device.mapFlood(socket);
                    }
                    ctx.count(action);
                } catch (IOException e) {
                    ctx.count(action + " ended by " + e.getClass().getSimpleName()
                            + (e instanceof NativeCallException ? " (" + e.getMessage() + ")" : ""));
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** The busy device (index 0, the well-behaved client holds it) one time in five, else one of the others. */
    private int pickDevice() {
        return schedule.nextInt(5) == 0 ? 0 : 1 + schedule.nextInt(ctx.sockets().size() - 1);
    }

    /** How many fds to attach: mostly a few, sometimes exactly max_msg_fds, one more, or up to SCM_MAX_FD. */
    int fdCount() {
        int p = random.nextInt(20);
        return p < 12 ? 1 : p < 16 ? 2 + random.nextInt(3) : p < 17 ? 16 : p < 18 ? 17 : 17 + random.nextInt(237);
    }

    FdZoo zoo() {
        return new FdZoo(random, ctx.memfdName(), ctx.peerEnds(), ctx.tempDir());
    }

    RawConnection connect(Path socket, long lifeMillis) throws IOException {
        return RawConnection.connect(socket, ctx.watchdog(), ctx.deadlineIn(lifeMillis));
    }

    /** Random bytes, with or without fds, read or not, then one of the ways to leave. */
    private void garbage(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = connect(socket, 300 + random.nextInt(2000)); FdZoo zoo = zoo()) {
            if (random.nextBoolean()) {
                c.startReading(random.nextBoolean(), random.nextLong());
            }
            for (int i = random.nextInt(4); i >= 0; i--) {
                c.send(fuzz.garbage(random.nextInt(4) == 0 ? 70_000 : 256),
                        random.nextInt(4) == 0 ? zoo.any(fdCount()) : NO_FDS);
                zoo.sent();
            }
            leave(c);
        }
    }

    /** VERSION (usually), then up to 300 well-formed commands of every kind, a third of them mutated. */
    private void mutatedSession(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = connect(socket, 300 + random.nextInt(3000)); FdZoo zoo = zoo()) {
            // A client that never reads: the server's replies fill its socket and the server must cope.
            boolean reading = random.nextInt(5) != 0;
            if (reading) {
                c.startReading(random.nextBoolean(), random.nextLong());
            }
            if (random.nextInt(5) != 0) {
                int id = fuzz.nextId();
                c.send(message(id, VERSION, 0, version(0, 0, QEMU_CAPABILITIES, true)));
                if (reading) {
                    ctx.count("negotiate " + c.awaitReply(id, Duration.ofSeconds(2)));
                }
            }
            int n = 1 + random.nextInt(random.nextBoolean() ? 20 : 300);
            for (int i = 0; i < n && !ctx.over(); i++) {
                byte[] m = fuzz.anyCommand();
                c.send(random.nextInt(3) == 0 ? fuzz.mutate(m) : m, random.nextInt(6) == 0 ? zoo.any(fdCount()) : NO_FDS);
                zoo.sent();
            }
            leave(c);
        }
    }

    /** Connects and says nothing, part of a header, or VERSION without reading the answer; stays a while. */
    private void idle(Path socket) throws IOException, InterruptedException {
        long life = 100 + random.nextInt(3000);
        try (RawConnection c = connect(socket, life)) {
            byte[] v = message(fuzz.nextId(), VERSION, 0, version(0, 0, QEMU_CAPABILITIES, true));
            switch (random.nextInt(3)) {
                case 0 -> { } // nothing at all
                case 1 -> c.send(Arrays.copyOf(v, 1 + random.nextInt(HEADER - 1)));
                default -> c.send(v);
            }
            stay(c, life);
        }
    }

    /** Up to 40 clients connect to one device at once, each sends VERSION; some wait for the answer. */
    private void storm(Path socket) throws InterruptedException {
        long deadline = ctx.deadlineIn(3000);
        List<RawConnection> clients = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        try {
            for (int i = 8 + random.nextInt(33); i > 0 && !ctx.over(); i--) {
                try {
                    RawConnection c = RawConnection.connect(socket, ctx.watchdog(), deadline);
                    clients.add(c);
                    c.startReading(true, random.nextLong());
                    int id = fuzz.nextId();
                    ids.add(id);
                    c.send(message(id, VERSION, 0, version(0, 0, QEMU_CAPABILITIES, true)));
                } catch (IOException e) {
                    ctx.count("storm client lost: " + e.getMessage());
                }
            }
            for (int i = 0; i < ids.size(); i++) {
                if (random.nextInt(3) != 0) {
                    ctx.count("storm answer " + clients.get(i).awaitReply(ids.get(i),
                            Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))));
                }
            }
        } finally {
            clients.forEach(RawConnection::close);
        }
    }

    /** Messages carrying 16 to 253 fds (more than the negotiated 16 is refused), mostly eventfds. */
    private void fdFlood(Path socket) throws IOException, InterruptedException {
        try (RawConnection c = connect(socket, 500 + random.nextInt(2000)); FdZoo zoo = zoo()) {
            c.startReading(true, random.nextLong());
            if (random.nextInt(4) != 0) {
                ctx.count("negotiate " + c.negotiate(fuzz.nextId(), Duration.ofSeconds(2), random.nextLong()));
            }
            int[] counts = {16, 17, 32, 64, 128, 253};
            for (int i = random.nextInt(5); i >= 0 && !ctx.over(); i--) {
                int n = counts[random.nextInt(counts.length)];
                byte[] m = random.nextBoolean()
                        ? message(fuzz.nextId(), DEVICE_SET_IRQS, 0, setIrqs(DeviceLayout.DATA_EVENTFD
                                | DeviceLayout.ACTION_TRIGGER, DeviceLayout.IRQ_INDEX_MSIX, random.nextInt(64), n,
                                new byte[0]))
                        : fuzz.anyCommand();
                c.send(m, random.nextBoolean() ? zoo.mostlyEventFds(n) : zoo.any(n));
                zoo.sent();
            }
            leave(c);
        }
    }

    /**
     * One of the ways a client leaves: at once, in the middle of a message, after a half-close, or after
     * staying a while doing nothing.
     */
    void leave(RawConnection c) throws IOException, InterruptedException {
        switch (random.nextInt(4)) {
            case 0 -> { } // at once
            case 1 -> {
                byte[] m = fuzz.anyCommand();
                c.send(Arrays.copyOf(m, 1 + random.nextInt(m.length - 1)));
            }
            case 2 -> {
                c.shutdownOutput();
                stay(c, random.nextInt(300));
            }
            default -> stay(c, random.nextInt(500));
        }
    }

    /**
     * Keeps the connection open, doing nothing, for up to {@code millis} (less once the abuse ends): what the
     * client under test does, not a wait for anything.
     */
    void stay(RawConnection c, long millis) throws InterruptedException {
        long until = ctx.deadlineIn(millis);
        long left;
        while ((left = until - System.nanoTime()) > 0 && !c.ended()) {
            Thread.sleep(Math.min(50, Math.max(1, left / 1_000_000)));
        }
    }
}
