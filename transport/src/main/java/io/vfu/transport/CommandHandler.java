package io.vfu.transport;

/**
 * Receives the commands the peer sends, one at a time, in arrival order, on the connection's reader thread
 * (spec "Command Concurrency": commands are processed in the order received).
 *
 * <p>The handler answers with {@link Connection#reply} or {@link Connection#replyError} (both do nothing for a
 * No_reply command) and may send its own requests with {@link Connection#request}, but must never wait for
 * their replies here: replies are read by this same thread, and the peer may need this command answered
 * first (QEMU's "deadlock trap"). Chain on the returned future instead.
 *
 * <p>Ownership: fds the handler {@link ReceivedFds#take takes} are its own; the rest are closed when it
 * returns. The payload buffer may be kept.
 */
@FunctionalInterface
public interface CommandHandler {

    /**
     * Handles one command.
     *
     * @throws io.vfu.protocol.MessageException answered with an error reply carrying its errno
     * @throws io.vfu.protocol.FramingException closes the connection
     * @throws Exception anything else is answered with EIO and logged; the connection stays up
     */
    void onCommand(Connection connection, Frame command) throws Exception;

    /**
     * Every command arrives here first, lent from the receive buffer (see {@link LentFrame}): nothing of it may
     * be kept after returning. A handler that serves commands in place (the zero-allocation path) overrides
     * this and answers with {@link Connection#reply(LentFrame, java.nio.ByteBuffer)}; the default hands an
     * owned {@link Frame} to {@link #onCommand}, closing whatever fds it did not take. Exceptions as for
     * {@link #onCommand}.
     */
    default void onLentCommand(Connection connection, LentFrame command) throws Exception {
        try (Frame frame = command.toFrame()) {
            onCommand(connection, frame);
        }
    }

    /**
     * A reply that answers no request in flight: an error reply to a posted (No_reply) command the peer
     * could not carry out (QEMU answers a failed posted DMA_WRITE so), or a late reply to a request that timed
     * out. Called on the reader thread; must not block. The default ignores it.
     */
    default void onUnsolicitedReply(Connection connection, io.vfu.protocol.Header reply) {
    }
}
