package io.vfu.server.socket;

import io.vfu.client.Await;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One accept thread for many listening sockets, over real sockets. */
@SuppressWarnings("try")
class AcceptLoopTest {

    @TempDir
    Path dir;

    @Test
    void oneThreadAcceptsForEveryListenerAndHandsEachClientToItsOwnHandler() throws Exception {
        int n = 40;
        List<UnixSocketListener> listeners = new ArrayList<>();
        List<BlockingQueue<UnixSocketTransport>> accepted = new ArrayList<>();
        try (AcceptLoop loop = AcceptLoop.start(TransportLimits.DEFAULT, "test-accept")) {
            for (int i = 0; i < n; i++) {
                UnixSocketListener l = UnixSocketListener.bind(dir.resolve("d" + i + ".sock"));
                BlockingQueue<UnixSocketTransport> q = new LinkedBlockingQueue<>();
                listeners.add(l);
                accepted.add(q);
                loop.register(l, q::add);
            }
            assertEquals(1, Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("test-accept")).count(), "one accept thread for " + n + " sockets");
            // Two clients per socket, connected in reverse socket order; client (i, round) sends msg_id 2i+round.
            List<UnixSocketTransport> clients = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (int i = n - 1; i >= 0; i--) {
                    UnixSocketTransport c = UnixSocketTransport.connect(dir.resolve("d" + i + ".sock"),
                            TransportLimits.DEFAULT);
                    c.send(new io.vfu.protocol.Header(2 * i + round, 1, io.vfu.protocol.Header.SIZE + 1, io.vfu.protocol.Header.TYPE_COMMAND, 0), ByteBuffer.wrap(new byte[] {7}));
                    clients.add(c);
                }
            }
            for (int i = 0; i < n; i++) {
                java.util.Set<Integer> ids = new java.util.HashSet<>();
                for (int round = 0; round < 2; round++) {
                    UnixSocketTransport server = accepted.get(i).poll(5, TimeUnit.SECONDS);
                    assertNotNull(server, "socket " + i + " client " + round);
                    // The accepted socket is a working, blocking session socket of this socket's own client.
                    try (server; Frame f = server.receive()) {
                        ids.add(f.header().msgId());
                    }
                }
                assertEquals(java.util.Set.of(2 * i, 2 * i + 1), ids, "socket " + i + " got its own two clients");
            }
            for (UnixSocketTransport c : clients) {
                c.close();
            }
            for (BlockingQueue<UnixSocketTransport> q : accepted) {
                assertNull(q.poll(), "no client was accepted twice or by the wrong socket");
            }
        } finally {
            for (UnixSocketListener l : listeners) {
                l.close();
            }
        }
    }

    @Test
    void unregisterRightAfterRegisterNeverHangsEvenBeforeTheLoopHasRun() throws Exception {
        // A server closed right after it started: the loop may not have taken its first snapshot yet, or may
        // be polling without the listener; unregister must not wait for a pass that never saw it.
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
            for (int i = 0; i < 100; i++) {
                try (AcceptLoop loop = AcceptLoop.start(TransportLimits.DEFAULT, "test-accept-race");
                     UnixSocketListener l = UnixSocketListener.bind(dir.resolve("r" + i + ".sock"))) {
                    loop.register(l, UnixSocketTransport::close);
                    if (i % 2 == 1) {
                        Thread.sleep(1); // sometimes after the loop is polling with the listener
                    }
                    loop.unregister(l);
                    assertEquals(0, loop.size());
                }
            }
        });
    }

    @Test
    void aListenerClosedBetweenPassesDoesNotStopTheLoop() throws Exception {
        // A slow handler on B keeps the loop busy while A is closed without unregistering; the next pass must
        // drop A and go on accepting B's clients.
        java.util.concurrent.CountDownLatch inHandler = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        BlockingQueue<UnixSocketTransport> qb = new LinkedBlockingQueue<>();
        try (AcceptLoop loop = AcceptLoop.start(TransportLimits.DEFAULT, "test-accept-3");
             UnixSocketListener la = UnixSocketListener.bind(dir.resolve("a.sock"));
             UnixSocketListener lb = UnixSocketListener.bind(dir.resolve("b.sock"))) {
            loop.register(la, UnixSocketTransport::close);
            loop.register(lb, t -> {
                if (qb.isEmpty()) {
                    inHandler.countDown();
                    try {
                        release.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                qb.add(t);
            });
            try (UnixSocketTransport c1 = UnixSocketTransport.connect(dir.resolve("b.sock"), TransportLimits.DEFAULT)) {
                assertTrue(inHandler.await(5, TimeUnit.SECONDS));
                la.close();
                release.countDown();
                try (UnixSocketTransport c2 = UnixSocketTransport.connect(dir.resolve("b.sock"),
                        TransportLimits.DEFAULT)) {
                    assertNotNull(qb.poll(5, TimeUnit.SECONDS), "first client of B");
                    assertNotNull(qb.poll(5, TimeUnit.SECONDS), "a client of B after A was closed mid-pass");
                }
            }
            // A is dropped by the first pass that finds it closed (possibly after the one that took c2).
            Await.until(Duration.ofSeconds(5), () -> loop.size() <= 1, () -> "A to be dropped: " + loop.size());
            assertEquals(1, loop.size(), "A was dropped, B stays");
        } finally {
            qb.forEach(UnixSocketTransport::close);
        }
    }

    @Test
    void anUnregisteredListenerCanBeClosedWhileTheOthersKeepAccepting() throws Exception {
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        BlockingQueue<UnixSocketTransport> qa = new LinkedBlockingQueue<>();
        BlockingQueue<UnixSocketTransport> qb = new LinkedBlockingQueue<>();
        try (AcceptLoop loop = AcceptLoop.start(TransportLimits.DEFAULT, "test-accept-2");
             UnixSocketListener la = UnixSocketListener.bind(a);
             UnixSocketListener lb = UnixSocketListener.bind(b)) {
            loop.register(la, qa::add);
            loop.register(lb, qb::add);
            loop.unregister(la);
            la.close();
            assertEquals(1, loop.size());
            assertFalse(a.toFile().exists(), "the closed listener removed its socket file");
            assertThrows(ConnectException.class, () -> UnixSocketTransport.connect(a, TransportLimits.DEFAULT));
            try (UnixSocketTransport c = UnixSocketTransport.connect(b, TransportLimits.DEFAULT)) {
                UnixSocketTransport s = qb.poll(5, TimeUnit.SECONDS);
                assertNotNull(s, "the other socket still accepts");
                s.close();
            }
            assertNull(qa.poll());
            // A listener closed without unregistering is dropped by the loop (poll would flag it forever).
            lb.close();
            Await.until(Duration.ofSeconds(5), () -> loop.size() == 0,
                    () -> "the closed listener to be dropped: " + loop.size() + " registered");
        }
    }
}
