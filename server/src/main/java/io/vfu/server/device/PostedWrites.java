package io.vfu.server.device;

import io.vfu.protocol.Command;
import io.vfu.protocol.DmaWrite;
import io.vfu.transport.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Posted writes (IMS and eventfd-less MSI-X messages) the device raised, queued under the device lock and sent
 * once the call that raised them has returned (the model's {@link io.vfu.device.MessageSink} contract: queue,
 * never block).
 *
 * <p>Rule: queueing never waits for the client. A drain swaps the queue for a second buffer under the monitor
 * (briefly) and sends outside it, so a device call that raises a write never waits behind a send to a client
 * that stopped reading (the send itself is bounded by the transport's send timeout). The queue grows as a call
 * needs (a function unmask may release 2,048 latched vectors at once) up to {@link #MAX}; past that, writes are
 * dropped and counted: only a client that reads nothing gets there.
 *
 * <p>Rule: order is kept. Writes go out oldest first, one drain at a time, and a flusher returns early only if
 * nothing is queued and no drain is sending, so a reply that follows a posted write (a status read after a
 * completion interrupt) never overtakes it.
 *
 * <p>Rule: writes belong to the connection they were raised for; a flusher holding another (a client that just
 * left) sends nothing, and writes queued for a connection that is gone are dropped when the next one's come.
 *
 * <p>Each write goes out as a 4-byte {@code DMA_WRITE} with No_reply (spec "VFIO_USER_DMA_WRITE"; QEMU answers
 * only a failure).
 */
final class PostedWrites {

    /** Writes waiting to be sent past which new ones are dropped. */
    static final int MAX = 65_536;
    private static final int INITIAL = 256;
    private static final int DMA_WRITE = Command.DMA_WRITE.code();

    // The queue, guarded by this monitor.
    private long[] address = new long[INITIAL];
    private int[] data = new int[INITIAL];
    private int count;
    private Connection owner;
    /** {@link #count} for the lock-free empty check in {@link #drain}. */
    private volatile int queued;

    // The batch being sent, owned by whoever holds sendLock.
    private final ReentrantLock sendLock = new ReentrantLock();
    private long[] sendingAddress = new long[INITIAL];
    private int[] sendingData = new int[INITIAL];
    private final ByteBuffer payload = ByteBuffer.allocate(DmaWrite.FIXED + 4).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * Queues one write for {@code connection} (called under the device lock; never sends, never waits for a
     * send).
     *
     * @return false when it was dropped: {@link #MAX} writes are already waiting
     */
    synchronized boolean add(Connection connection, long address, int data) {
        if (connection != owner) {
            count = 0; // Rule: writes raised for a connection that is gone never reach another one.
            owner = connection;
        }
        if (count == this.address.length) {
            if (count >= MAX) {
                return false;
            }
            this.address = Arrays.copyOf(this.address, count * 2);
            this.data = Arrays.copyOf(this.data, count * 2);
        }
        this.address[count] = address;
        this.data[count] = data;
        queued = ++count;
        return true;
    }

    /** Drops every queued write (the client they were for went away). */
    synchronized void clear() {
        count = 0;
        queued = 0;
        owner = null;
    }

    /**
     * Sends every write queued for {@code connection}, oldest first; waits for a drain already sending (order).
     *
     * @return how many were sent
     * @throws IOException the connection failed; the writes taken for sending are dropped with it
     */
    int drain(Connection connection) throws IOException {
        if (queued == 0 && !sendLock.isLocked()) {
            return 0;
        }
        sendLock.lock();
        try {
            int n;
            synchronized (this) {
                if (count == 0 || owner != connection) {
                    return 0;
                }
                long[] a = address;
                int[] d = data;
                address = sendingAddress;
                data = sendingData;
                sendingAddress = a;
                sendingData = d;
                n = count;
                count = 0;
                queued = 0;
                if (address.length < sendingAddress.length) {
                    // Rule: the buffer that takes over the queue is as large as the one that just filled.
                    address = new long[sendingAddress.length];
                    data = new int[sendingData.length];
                }
            }
            for (int i = 0; i < n; i++) {
                payload.putLong(0, sendingAddress[i]).putLong(8, 4).putInt(DmaWrite.FIXED, sendingData[i]);
                connection.post(DMA_WRITE, payload);
            }
            return n;
        } finally {
            sendLock.unlock();
        }
    }
}
