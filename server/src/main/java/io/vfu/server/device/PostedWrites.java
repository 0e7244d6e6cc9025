package io.vfu.server.device;

import io.vfu.protocol.Command;
import io.vfu.protocol.DmaWrite;
import io.vfu.transport.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Posted writes (IMS and eventfd-less MSI-X messages) the device raised, queued and sent once the call that
 * raised them has returned (the model's {@link io.vfu.device.MessageSink} contract: queue, never block).
 *
 * <p>Why queue: the device raises them under its lock, deep inside a register write. Sending from there
 * holds the device lock across a sendmsg and runs the native call at a depth where the JIT stops inlining, so
 * the FFM errno-capture slice it makes per call was not always scalar-replaced (measured: ~40 B per
 * interrupt). Drained by the device host after every device call releases the lock, the send is outside the
 * device lock and shallower. Order is kept: a ring, drained front to back under one monitor.
 *
 * <p>Each write goes out as a 4-byte {@code DMA_WRITE} with No_reply (spec "VFIO_USER_DMA_WRITE"; QEMU
 * answers only a failure).
 */
final class PostedWrites {

    /** Queue size; a burst beyond it is sent at once, from where it was raised. */
    static final int CAPACITY = 256;
    private static final int DMA_WRITE = Command.DMA_WRITE.code();

    private final long[] address = new long[CAPACITY];
    private final int[] data = new int[CAPACITY];
    private final ByteBuffer payload = ByteBuffer.allocate(DmaWrite.FIXED + 4).order(ByteOrder.LITTLE_ENDIAN);
    /** Queued writes; volatile so the empty check needs no monitor (each raiser also flushes its own). */
    private volatile int count;
    /** A drain is sending what it took from the queue. */
    private volatile boolean sending;

    /** Drops every queued write (the client they were for went away). */
    synchronized void clear() {
        count = 0;
    }

    /** Queues one write (called under the device lock). */
    synchronized void add(Connection connection, long address, int data) throws IOException {
        if (count == CAPACITY) {
            drainLocked(connection);
        }
        this.address[count] = address;
        this.data[count] = data;
        count++;
    }

    /**
     * Sends every queued write, oldest first.
     *
     * @return how many were sent
     * @throws IOException the connection failed; the writes not sent are dropped with it
     */
    int drain(Connection connection) throws IOException {
        // Rule: a flusher returns early only if nothing is queued and no drain is sending, so a reply that
        // follows a posted write (a status read after a completion interrupt) never overtakes it.
        if (count == 0 && !sending) {
            return 0;
        }
        synchronized (this) {
            return count == 0 ? 0 : drainLocked(connection);
        }
    }

    private int drainLocked(Connection connection) throws IOException {
        int n = count;
        sending = true; // before count drops to 0: see drain()
        // Rule: the queue empties even if a send fails, so a dead connection never replays stale interrupts.
        count = 0;
        try {
            for (int i = 0; i < n; i++) {
                payload.putLong(0, address[i]).putLong(8, 4).putInt(DmaWrite.FIXED, data[i]);
                connection.post(DMA_WRITE, payload);
            }
        } finally {
            sending = false;
        }
        return n;
    }
}
