package io.vfu.transport.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.ConnectException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("try")
class NativeIoTest {

    @Test
    void ownedFdClosesOnceAndReleasesTheDescriptor() throws Exception {
        int before = Fds.openCount();
        EventFd e = EventFd.create();
        int raw = e.fd().fd();
        assertEquals(before + 1, Fds.openCount());
        assertTrue(Fds.isOpen(raw));
        e.close();
        e.close();
        assertFalse(Fds.isOpen(raw));
        assertFalse(e.fd().isOpen());
        assertEquals(before, Fds.openCount());
        assertThrows(IllegalStateException.class, () -> e.fd().fd());
    }

    @Test
    void dupSharesTheCounterAndHasItsOwnLifetime() throws Exception {
        try (EventFd a = EventFd.create(); EventFd b = EventFd.wrap(a.fd().dup())) {
            assertNotEquals(a.fd().fd(), b.fd().fd());
            a.add(5);
            assertEquals(5, b.read());
            a.close();
            b.signal();
            assertEquals(OptionalLong.of(1), b.await(Duration.ofSeconds(1)));
        }
    }

    @Test
    void releaseHandsTheRawFdOver() throws Exception {
        OwnedFd fd = EventFd.create().fd();
        int raw = fd.release();
        fd.close();
        assertTrue(Fds.isOpen(raw), "a released fd must not be closed by its former owner");
        OwnedFd.closeRaw(raw);
        assertFalse(Fds.isOpen(raw));
    }

    @Test
    void eventFdAccumulatesSignalsAndAwaitTimesOut() throws Exception {
        try (EventFd e = EventFd.create()) {
            assertEquals(OptionalLong.empty(), e.await(Duration.ofMillis(20)));
            e.signal();
            e.signal();
            e.add(40);
            assertEquals(OptionalLong.of(42), e.await(Duration.ofSeconds(1)));
            assertEquals(OptionalLong.empty(), e.await(Duration.ofMillis(10)));
        }
    }

    @Test
    void twoMappingsOfOneMemFdSeeEachOthersWritesAtAnUnalignedOffset() throws Exception {
        long page = Mmap.pageSize();
        try (OwnedFd mem = MemFd.create("vfu-test", 4 * page);
                Mmap whole = Mmap.map(mem, 0, 4 * page, true);
                Mmap part = Mmap.map(mem, page + 100, 2 * page, false)) {
            assertEquals(2 * page, part.segment().byteSize());
            whole.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, page + 100, 0x1122334455667788L);
            whole.segment().set(ValueLayout.JAVA_BYTE, 3 * page + 99, (byte) 0x5A);
            assertEquals(0x1122334455667788L, part.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertEquals((byte) 0x5A, part.segment().get(ValueLayout.JAVA_BYTE, 2 * page - 1));
        }
    }

    @Test
    void mappingOutlivesItsFdAndRejectsBadRanges() throws Exception {
        OwnedFd mem = MemFd.create("vfu-test", 8192);
        try (Mmap m = Mmap.map(mem, 0, 8192, true)) {
            mem.close();
            m.segment().set(ValueLayout.JAVA_INT, 4096, 7);
            assertEquals(7, m.segment().get(ValueLayout.JAVA_INT, 4096));
        }
        try (OwnedFd fd = MemFd.create("vfu-test", 4096)) {
            assertThrows(IllegalArgumentException.class, () -> Mmap.map(fd, -1, 10, false));
            assertThrows(IllegalArgumentException.class, () -> Mmap.map(fd, 0, 0, false));
            assertThrows(IllegalArgumentException.class, () -> Mmap.map(fd, Long.MAX_VALUE, 2, false));
        }
    }

    @Test
    void socketPairPeerIsThisProcess() throws Exception {
        OwnedFd[] p = UnixSockets.pair();
        try (OwnedFd a = p[0]; OwnedFd b = p[1]) {
            UnixSockets.Ucred c = UnixSockets.peerCredentials(a.fd());
            assertEquals(ProcessHandle.current().pid(), c.pid());
            assertEquals(Fds.currentUid(), c.uid());
            assertEquals(c, UnixSockets.peerCredentials(b.fd()));
        }
    }

    @Test
    void connectWhereNothingListensIsRefused(@TempDir Path dir) throws Exception {
        assertThrows(ConnectException.class, () -> UnixSockets.connect(dir.resolve("absent.sock")));
        try (OwnedFd l = UnixListenSocket.bindAndListen(dir.resolve("gone.sock"),
                PosixFilePermissions.fromString("rw-------"), 1)) {
            assertTrue(Fds.isOpen(l.fd()));
        }
        // The file outlives the socket: connecting to it is refused, which is how stale files are recognised.
        assertThrows(ConnectException.class, () -> UnixSockets.connect(dir.resolve("gone.sock")));
    }

    @Test
    void socketPathLongerThanSunPathIsRejectedBeforeAnyFd(@TempDir Path dir) {
        Path longPath = dir.resolve("x".repeat(120));
        IOException e = assertThrows(IOException.class, () -> UnixSockets.connect(longPath));
        assertTrue(e.getMessage().contains("longer than 107"), e.getMessage());
    }

    @Test
    void failedCallsReportErrno() {
        NativeCallException e = assertThrows(NativeCallException.class, () -> OwnedFd.dupOf(1_000_000));
        assertEquals(9, e.errno(), "EBADF");
    }
}
