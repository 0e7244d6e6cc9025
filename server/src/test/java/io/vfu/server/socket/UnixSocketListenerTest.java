package io.vfu.server.socket;

import io.vfu.client.Await;
import io.vfu.transport.Frame;
import io.vfu.transport.PeerCredentials;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.UnixListenSocket;
import io.vfu.transport.nativeio.UnixSockets;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.attribute.GroupPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.net.BindException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try")
class UnixSocketListenerTest {

    @TempDir
    Path dir;

    @Test
    void socketFileIsCreatedWithMode0600AndRemovedOnClose() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        try (UnixSocketListener l = UnixSocketListener.bind(sock)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals(1, Files.list(dir).count(), "nothing but the socket file is created");
        }
        assertFalse(Files.exists(sock));
    }

    @Test
    void socketFileGetsTheConfiguredModeAndGroup() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        Path probe = Files.createFile(dir.resolve("probe"));
        int myGid = (Integer) Files.getAttribute(probe, "unix:gid");
        String myGroup = ((GroupPrincipal) Files.getAttribute(probe, "posix:group")).getName();
        try (UnixSocketListener l = UnixSocketListener.bind(sock,
                new SocketAccess(new SocketMode(0660), Optional.of(SocketGroup.ofGid(myGid))))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals(myGid, Files.getAttribute(sock, "unix:gid"));
        }
        try (UnixSocketListener l = UnixSocketListener.bind(sock,
                new SocketAccess(new SocketMode(0666), Optional.of(new SocketGroup(myGroup))))) {
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertEquals(myGid, Files.getAttribute(sock, "unix:gid"), "group " + myGroup + " looked up by name");
        }
    }

    @Test
    void anUnknownGroupFailsNamingPathAndGroupAndLeavesNoSocket() {
        Path sock = dir.resolve("vfu.sock");
        IOException e = assertThrows(IOException.class, () -> UnixSocketListener.bind(sock,
                new SocketAccess(new SocketMode(0660), Optional.of(new SocketGroup("no-such-group-vfu")))));
        assertTrue(e.getMessage().contains(sock.toString()) && e.getMessage().contains("no-such-group-vfu"),
                e.getMessage());
        assertFalse(Files.exists(sock), "a socket that could not be given its group is not left behind");
    }

    /**
     * The order that keeps the socket from ever being reachable wider than configured: when the group is set,
     * the file is owner-only and nothing can connect yet; the final mode comes after, listen last.
     */
    @Test
    void theGroupIsSetWhileTheFileIsOwnerOnlyAndNotYetListening() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        List<String> seen = new ArrayList<>();
        try (OwnedFd fd = UnixListenSocket.bindAndListen(sock, PosixFilePermissions.fromString("rw-rw-rw-"), p -> {
            seen.add(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            assertThrows(ConnectException.class, () -> UnixSockets.connect(p).close(), "connect before listen");
            seen.add("refused");
        }, 1)) {
            assertEquals(List.of("rw-------", "refused"), seen);
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            UnixSockets.connect(sock).close();
        }
    }

    @Test
    void acceptedConnectionCarriesFramesAndPeerCredentials() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
                UnixSocketTransport client = UnixSocketTransport.connect(sock, TransportLimits.DEFAULT);
                UnixSocketTransport server = l.accept(TransportLimits.DEFAULT)) {
            Path mine = Files.createFile(dir.resolve("probe"));
            PeerCredentials pc = server.peerCredentials();
            assertEquals(((Number) Files.getAttribute(mine, "unix:uid")).longValue(), pc.uid());
            assertEquals(ProcessHandle.current().pid(), pc.pid());
            assertTrue(pc.isSameUser());
            assertFalse(new PeerCredentials(pc.pid(), pc.uid() + 1, pc.gid()).isSameUser());
            client.send(new io.vfu.protocol.Header(3, 1, io.vfu.protocol.Header.SIZE + 2, io.vfu.protocol.Header.TYPE_COMMAND, 0), ByteBuffer.wrap(new byte[] {9, 8}));
            try (Frame f = server.receive()) {
                assertEquals(3, f.header().msgId());
            }
        }
    }

    @Test
    void staleSocketFileIsReplaced() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        // A socket file nobody listens on: a listening socket closed without removing its file.
        UnixListenSocket.bindAndListen(sock, PosixFilePermissions.fromString("rw-------"), 1).close();
        assertTrue(Files.exists(sock));
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
                UnixSocketTransport c = UnixSocketTransport.connect(sock, TransportLimits.DEFAULT);
                UnixSocketTransport s = l.accept(TransportLimits.DEFAULT)) {
            assertTrue(s.isOpen());
        }
    }

    @Test
    void liveSocketIsNotStolen() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        try (UnixSocketListener first = UnixSocketListener.bind(sock)) {
            assertThrows(BindException.class, () -> UnixSocketListener.bind(sock));
            assertTrue(Files.exists(sock), "the live server's socket file is left alone");
        }
    }

    @Test
    void regularFileIsNotReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("data"), "keep me");
        assertThrows(FileAlreadyExistsException.class, () -> UnixSocketListener.bind(file));
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void closeWakesABlockedAcceptAndLaterAcceptsFail() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        UnixSocketListener l = UnixSocketListener.bind(sock);
        CompletableFuture<UnixSocketTransport> accepted = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                accepted.complete(l.accept(TransportLimits.DEFAULT));
            } catch (Throwable e) {
                accepted.completeExceptionally(e);
            }
        });
        Await.until(Duration.ofSeconds(5), () -> inNativeCall(t) || accepted.isDone(),
                () -> "the accepting thread to block in accept(2): " + t.getState());
        l.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> accepted.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof ClosedChannelException, e.getCause().toString());
        assertThrows(ClosedChannelException.class, () -> l.accept(TransportLimits.DEFAULT));
        assertFalse(Files.exists(sock));
    }

    /** Whether the thread has reached the downcall (so the test closes a listener someone really waits on). */
    private static boolean inNativeCall(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().endsWith("UnixSockets") && e.getMethodName().equals("accept")) {
                return true;
            }
        }
        return false;
    }
}
