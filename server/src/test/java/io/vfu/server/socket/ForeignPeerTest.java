package io.vfu.server.socket;

import io.vfu.transport.CommandHandler;
import io.vfu.transport.Connection;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.Command;
import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.EventFd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our transport against a peer written in Python from the spec alone ({@code peer/vfio_user_peer.py}), with
 * fds crossing in both directions. python3 (3.9+, for socket.send_fds and os.eventfd) is required: if it is
 * missing the test fails, it does not skip.
 */
@SuppressWarnings("try")
class ForeignPeerTest {

    @TempDir
    Path dir;

    @Test
    void pythonPeerExchangesFramesAndEventFdsBothWays() throws Exception {
        Path script = dir.resolve("vfio_user_peer.py");
        try (var in = getClass().getResourceAsStream("/peer/vfio_user_peer.py")) {
            Files.copy(in, script);
        }
        Path sock = dir.resolve("peer.sock");
        try (UnixSocketListener listener = UnixSocketListener.bind(sock);
                EventFd toPeer = EventFd.create()) {
            Process peer = start(script, sock);
            CompletableFuture<Void> javaSide = new CompletableFuture<>();
            CommandHandler handler = (conn, f) -> {
                Header h = f.header();
                if (h.command() == Command.VERSION.code()) {
                    ByteBuffer p = f.payload().order(ByteOrder.LITTLE_ENDIAN);
                    assertEquals(0, p.getShort(0));
                    String json = StandardCharsets.UTF_8.decode(p.slice(4, p.remaining() - 4)).toString();
                    assertTrue(json.startsWith("{\"capabilities\"") && json.endsWith("\0"), json);
                    conn.reply(h, ByteBuffer.wrap(new byte[] {0, 0, 0, 0, '{', '}', 0}));
                    return;
                }
                // Signal each eventfd the peer attached with a value naming message and index.
                for (int i = 0; i < f.fds().count(); i++) {
                    try (EventFd e = EventFd.wrap(f.fds().take(i))) {
                        e.add(h.msgId() * 16L + i + 1);
                    }
                }
                int expected = switch (h.msgId()) {
                    case 2 -> 2;
                    case 4 -> 1;
                    default -> 0;
                };
                assertEquals(expected, f.fds().count(), "fds on msg " + h.msgId());
                conn.reply(h);
                if (h.msgId() == 4) {
                    // Now the Java side sends its own commands: one with an eventfd, one without.
                    CompletableFuture<Frame> r1 = conn.request(Command.DMA_WRITE, ByteBuffer.wrap(new byte[] {1, 2, 3}),
                            toPeer.fd().fd());
                    CompletableFuture<Frame> r2 = conn.request(Command.DMA_READ, ByteBuffer.wrap(new byte[] {4, 5}));
                    CompletableFuture.allOf(r1, r2).whenComplete((v, e) -> {
                        if (e != null) {
                            javaSide.completeExceptionally(e);
                            return;
                        }
                        try (Frame a = r1.join(); Frame b = r2.join()) {
                            assertArrayEquals(new byte[] {3, 2, 1}, a.payloadBytes());
                            assertArrayEquals(new byte[] {5, 4}, b.payloadBytes());
                            javaSide.complete(null);
                        } catch (Throwable t) {
                            javaSide.completeExceptionally(t);
                        }
                    });
                }
            };
            try (Connection conn = Connection.start(listener.accept(TransportLimits.DEFAULT), handler,
                    Duration.ofSeconds(5), "peer-test")) {
                javaSide.get(10, TimeUnit.SECONDS);
                assertEquals(OptionalLong.of(0x1234), toPeer.await(Duration.ofSeconds(5)),
                        "the peer signalled the eventfd we sent it");
                assertTrue(peer.waitFor(10, TimeUnit.SECONDS), "peer did not finish");
                String out = new String(peer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, peer.exitValue(), out);
                assertTrue(out.contains("peer: OK"), out);
            } finally {
                peer.destroyForcibly();
            }
        }
    }

    private static Process start(Path script, Path sock) throws IOException {
        try {
            return new ProcessBuilder("python3", script.toString(), sock.toString()).redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new IOException("python3 is required for the foreign-peer test and could not be started", e);
        }
    }
}
