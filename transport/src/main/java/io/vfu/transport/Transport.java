package io.vfu.transport;

import io.vfu.protocol.FramingException;
import io.vfu.protocol.Header;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A bidirectional carrier of vfio-user frames with attached fds. One thread receives; any number of threads
 * may send concurrently, each {@link #send} going out as one unit (one sendmsg on a socket) so frames never
 * interleave and fds travel with the bytes of the message they belong to.
 */
public interface Transport extends AutoCloseable {

    /**
     * Blocks for the next whole message.
     *
     * @return the frame (the caller owns it and must close it), or {@code null} at a clean end of stream on a
     *         message boundary
     * @throws FramingException    the header is malformed (size outside [16, maxMessageSize], unknown type): the
     *                             stream cannot be trusted; close the transport. Fds that came with it are closed.
     * @throws java.io.EOFException the peer closed in the middle of a message; fds received are closed
     * @throws TooManyFdsException the message was consumed but carried too many fds (all closed); the stream is
     *                             still in sync and receive may be called again
     * @throws IOException         the socket failed or was closed
     */
    Frame receive() throws IOException, FramingException, TooManyFdsException;

    /**
     * Lends the next whole message to {@code into} (see {@link LentFrame}): the zero-allocation receive that
     * the connection's reader uses. The same errors as {@link #receive()}. This default lends an owned frame;
     * a buffered transport lends its bytes in place.
     *
     * @return false at a clean end of stream on a message boundary
     */
    default boolean receive(LentFrame into) throws IOException, FramingException, TooManyFdsException {
        Frame f = receive();
        if (f == null) {
            return false;
        }
        into.own(f);
        return true;
    }

    /**
     * Sends one message without fds from header field values (size is {@code 16 + payload.remaining()}): the
     * hot-path send that builds no {@link Header}. Same rules as {@link #send(Header, ByteBuffer, int...)}.
     */
    default void send(int msgId, int command, long flags, long error, ByteBuffer payload) throws IOException {
        send(new Header(msgId, command, Header.SIZE + (long) payload.remaining(), flags, error), payload);
    }

    /**
     * Sends one message: {@code header} followed by {@code payload}'s remaining bytes (the payload's position
     * is not changed), with {@code fds} attached as SCM_RIGHTS. The caller keeps ownership of the fds (the
     * kernel duplicates them into the peer). Thread-safe.
     *
     * @throws IllegalArgumentException when {@code header.size() != 16 + payload.remaining()} or there are
     *                                  more than 253 fds
     */
    void send(Header header, ByteBuffer payload, int... fds) throws IOException;

    /** The limits applied to received messages. */
    TransportLimits limits();

    /**
     * Why sending broke the stream for good (a {@link SendTimeoutException}), or null: the connection reports
     * it as the reason it closed, since its reader then only sees end of stream.
     */
    default java.io.IOException sendFailure() {
        return null;
    }

    boolean isOpen();

    /** Closes the transport; a thread blocked in {@link #receive()} gets an {@code IOException} or null. */
    @Override
    void close();

    /** Checks the {@link #send} arguments shared by every implementation. */
    static void checkSend(Header header, ByteBuffer payload, int[] fds) {
        if (header.size() != Header.SIZE + (long) payload.remaining()) {
            throw new IllegalArgumentException("header size " + header.size() + " but payload has "
                    + payload.remaining() + " bytes");
        }
        if (fds.length > TransportLimits.SCM_MAX_FD) {
            throw new IllegalArgumentException("at most 253 fds per message: " + fds.length);
        }
    }
}
