package io.vfu.server.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

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
            client.send(Messages.command(3, 1, 2), ByteBuffer.wrap(new byte[] {9, 8}));
            try (Frame f = server.receive()) {
                assertEquals(3, f.header().msgId());
            }
        }
    }

    @Test
    void staleSocketFileIsReplaced() throws Exception {
        Path sock = dir.resolve("vfu.sock");
        // A socket file nobody listens on: bind a server without removing its file on close.
        AFUNIXServerSocket old = AFUNIXServerSocket.bindOn(AFUNIXSocketAddress.of(sock), false);
        old.close();
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
}
