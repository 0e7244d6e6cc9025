package io.vfu.transport;

import io.vfu.transport.nativeio.Fds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfu.transport.nativeio.EventFd;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class InMemoryTransportTest {

    @Test
    void fdsAreDuplicatedToTheReceiverAsSocketsWould() throws Exception {
        InMemoryTransport[] t = InMemoryTransport.pair(new TransportLimits(4096, 1));
        try (EventFd e = EventFd.create()) {
            t[0].send(Messages.command(1, 8, 2), ByteBuffer.wrap(new byte[] {1, 2}), e.fd().fd());
            try (Frame f = t[1].receive(); EventFd got = EventFd.wrap(f.fds().take(0))) {
                assertNotEquals(e.fd().fd(), got.fd().fd(), "the receiver owns its own copy");
                got.add(3);
                assertEquals(OptionalLong.of(3), e.await(Duration.ofSeconds(1)));
            }
        }
    }

    @Test
    void limitsAndEndOfStreamMatchTheSocketTransport() throws Exception {
        InMemoryTransport[] t = InMemoryTransport.pair(new TransportLimits(64, 1));
        try (EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            int before = Fds.openCount();
            t[0].send(Messages.command(1, 8, 0), ByteBuffer.allocate(0), a.fd().fd(), b.fd().fd());
            assertThrows(TooManyFdsException.class, t[1]::receive);
            assertEquals(before, Fds.openCount());
            t[0].send(Messages.command(2, 9, 60), ByteBuffer.allocate(60));
            assertThrows(io.vfu.protocol.FramingException.class, t[1]::receive);
            t[0].close();
            assertNull(t[1].receive());
        }
    }
}
