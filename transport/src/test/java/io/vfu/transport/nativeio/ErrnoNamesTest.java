package io.vfu.transport.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.protocol.Errno;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrnoNamesTest {

    @TempDir
    Path dir;

    @Test
    void namesAgreeWithTheProtocolsErrnoNumbering() {
        for (Errno e : Errno.values()) {
            assertEquals(e.name(), ErrnoNames.name(e.code()), "errno " + e.code());
        }
        assertEquals("errno 4095", ErrnoNames.name(4095), "a value without a name stays a number");
    }

    @Test
    void aFailedLibcCallSaysTheNameAndText() throws Exception {
        NativeCallException e = new NativeCallException("bind", 98);
        assertEquals("bind: EADDRINUSE (Address already in use)", e.getMessage());
        assertEquals("EADDRINUSE (Address already in use)", e.reason());
    }

    @Test
    void theJdksOwnFileAndSocketErrorsAreNamedToo() throws Exception {
        NoSuchFileException missing = org.junit.jupiter.api.Assertions.assertThrows(NoSuchFileException.class,
                () -> Files.readString(dir.resolve("none")));
        assertEquals("ENOENT (No such file or directory)", ErrnoNames.reason(missing));
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            BindException inUse = org.junit.jupiter.api.Assertions.assertThrows(BindException.class,
                    () -> new ServerSocket(taken.getLocalPort(), 1, InetAddress.getLoopbackAddress()).close());
            assertEquals("EADDRINUSE (Address already in use)", ErrnoNames.reason(inUse));
        }
        assertEquals(Optional.empty(), ErrnoNames.byMessage("something else"));
        assertEquals("something else", ErrnoNames.reason(new java.io.IOException("something else")));
    }
}
