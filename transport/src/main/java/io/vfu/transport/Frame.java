package io.vfu.transport;

import io.vfu.protocol.Header;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One received vfio-user message: its validated header, exactly {@code size - 16} payload bytes
 * (little-endian, position 0), and the fds that arrived with it. Closing the frame closes the fds nobody
 * took; the payload stays valid (it is not pooled) so a frame may be handed to another thread. The payload
 * may be a heap buffer or, for a message larger than the transport's receive buffer, a direct one: read it
 * through the ByteBuffer API, never {@code array()}.
 */
public record Frame(Header header, ByteBuffer payload, ReceivedFds fds) implements AutoCloseable {

    public Frame {
        Objects.requireNonNull(header);
        Objects.requireNonNull(payload);
        Objects.requireNonNull(fds);
        // Rule: the payload is exactly the bytes the header's size announces.
        if (payload.remaining() != header.size() - Header.SIZE) {
            throw new IllegalArgumentException("payload of " + payload.remaining()
                    + " bytes does not match message size " + header.size());
        }
    }

    /** The payload bytes as a fresh array (convenience for tests and cold paths). */
    public byte[] payloadBytes() {
        byte[] b = new byte[payload.remaining()];
        payload.duplicate().get(b);
        return b;
    }

    @Override
    public void close() {
        fds.close();
    }
}
