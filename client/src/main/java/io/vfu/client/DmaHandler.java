package io.vfu.client;

import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import java.nio.ByteBuffer;

/**
 * Serves the server-to-client memory commands (spec "VFIO_USER_DMA_READ" / "VFIO_USER_DMA_WRITE") for a
 * {@link VfioUserClient}: the client's side of guest memory. Called on the connection's reader thread, in
 * order; must not wait for replies to the client's own requests.
 */
public interface DmaHandler {

    /** Returns exactly {@code count} bytes of client memory at {@code address}. */
    ByteBuffer read(long address, long count) throws MessageException;

    /** Stores {@code data} (all remaining bytes) at {@code address}. */
    void write(long address, ByteBuffer data) throws MessageException;

    /** A handler that refuses every access with EFAULT (a client that maps no memory for DMA). */
    static DmaHandler refuseAll() {
        return new DmaHandler() {
            @Override
            public ByteBuffer read(long address, long count) throws MessageException {
                throw new MessageException(Errno.EFAULT, "no DMA memory");
            }

            @Override
            public void write(long address, ByteBuffer data) throws MessageException {
                throw new MessageException(Errno.EFAULT, "no DMA memory");
            }
        };
    }
}
