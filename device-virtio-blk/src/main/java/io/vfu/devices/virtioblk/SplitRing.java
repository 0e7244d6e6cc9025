package io.vfu.devices.virtioblk;

import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A split virtqueue in guest memory (virtio 1.2, 2.7), read and written through {@link GuestMemory}. Every
 * value in it is the guest's, so every index and length is checked before use; a broken ring is a
 * {@link RingException}. Not thread-safe: each thread uses its own.
 */
final class SplitRing {

    static final int DESC_SIZE = 16;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1;

    private final GuestMemory memory;
    private final RingLayout layout;
    private final ByteBuffer two = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer eight = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer desc = ByteBuffer.allocate(DESC_SIZE).order(ByteOrder.LITTLE_ENDIAN);

    SplitRing(GuestMemory memory, RingLayout layout) {
        this.memory = memory;
        this.layout = layout;
    }

    RingLayout layout() {
        return layout;
    }

    /** avail->idx: the driver's next free slot. */
    int availIdx() throws RingException {
        int idx = readU16(layout.avail() + 2, "avail idx");
        VarHandle.acquireFence(); // Rule: the ring entries are read after the index that published them.
        return idx;
    }

    int availFlags() throws RingException {
        return readU16(layout.avail(), "avail flags");
    }

    /** The head index in avail slot {@code slot} (a free-running index). */
    int availHead(int slot) throws RingException {
        return readU16(layout.avail() + 4 + 2L * (slot & (layout.size() - 1)), "avail ring");
    }

    /** avail->used_event (VIRTIO_F_EVENT_IDX). */
    int usedEvent() throws RingException {
        return readU16(layout.avail() + 4 + 2L * layout.size(), "used_event");
    }

    /** used->avail_event (VIRTIO_F_EVENT_IDX): kick me when avail idx passes {@code idx}. */
    void setAvailEvent(int idx) throws RingException {
        writeU16(layout.used() + 4 + 8L * layout.size(), idx, "avail_event");
        VarHandle.fullFence(); // Rule: the event index is visible before the device re-reads avail idx.
    }

    /**
     * Fills used slot {@code slot} with (head, length), then publishes used idx {@code slot + 1}; a full fence
     * follows, so the interrupt decision that comes next reads the driver's event index after it.
     */
    void putUsed(int slot, int head, int length) throws RingException {
        eight.clear();
        eight.putInt(0, head).putInt(4, length);
        write(layout.used() + 4 + 8L * (slot & (layout.size() - 1)), eight, "used ring");
        VarHandle.storeStoreFence(); // Rule: the element is visible before the index that publishes it.
        writeU16(layout.used() + 2, (slot + 1) & 0xFFFF, "used idx");
        VarHandle.fullFence();
    }

    /**
     * Whether the driver wants an interrupt after used idx moved from {@code oldIdx} to {@code newIdx}
     * (virtio 1.2, 2.7.10): with EVENT_IDX when it passed used_event, else unless NO_INTERRUPT is set.
     */
    boolean wantsInterrupt(int oldIdx, int newIdx) throws RingException {
        if (layout.eventIdx()) {
            int event = usedEvent();
            return ((newIdx - event - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
        }
        return (availFlags() & AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * The chain starting at {@code head}, following NEXT and one level of INDIRECT, with every rule of 2.7.5
     * checked: indexes inside their table, no more descriptors than the table holds (so a loop ends), no
     * indirect table inside an indirect table or with NEXT, a whole number of descriptors in an indirect table,
     * and readable buffers before writable ones.
     */
    Chain chain(int head) throws RingException {
        int size = layout.size();
        if (head < 0 || head >= size) {
            throw new RingException("queue " + layout.index() + ": head " + head + " outside a ring of " + size);
        }
        List<Chain.Buffer> buffers = new ArrayList<>(4);
        long readable = 0;
        long writable = 0;
        long table = layout.desc();
        int tableSize = size;
        boolean indirect = false;
        int i = head;
        int seen = 0;
        while (true) {
            if (++seen > tableSize) {
                throw new RingException("queue " + layout.index() + ": chain at " + head
                        + " is longer than its table (a loop)");
            }
            readDesc(table, i);
            long addr = desc.getLong(0);
            long len = desc.getInt(8) & 0xFFFF_FFFFL;
            int flags = desc.getShort(12) & 0xFFFF;
            int next = desc.getShort(14) & 0xFFFF;
            if ((flags & F_INDIRECT) != 0) {
                if (!layout.indirect() || indirect || (flags & F_NEXT) != 0 || seen != 1) {
                    throw new RingException("queue " + layout.index() + ": indirect descriptor not allowed here");
                }
                if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > size) {
                    throw new RingException("queue " + layout.index() + ": indirect table of " + len + " bytes");
                }
                indirect = true;
                table = addr;
                tableSize = (int) (len / DESC_SIZE);
                i = 0;
                seen = 0;
                continue;
            }
            boolean w = (flags & F_WRITE) != 0;
            if (!w && writable > 0) {
                throw new RingException("queue " + layout.index() + ": readable buffer after a writable one");
            }
            if (len > Integer.MAX_VALUE) {
                throw new RingException("queue " + layout.index() + ": buffer of " + len + " bytes");
            }
            if (len > 0) {
                buffers.add(new Chain.Buffer(addr, (int) len, w));
                if (w) {
                    writable += len;
                } else {
                    readable += len;
                }
            }
            if ((flags & F_NEXT) == 0) {
                return new Chain(head, buffers, readable, writable);
            }
            if (next >= tableSize) {
                throw new RingException("queue " + layout.index() + ": next " + next + " outside a table of "
                        + tableSize);
            }
            i = next;
        }
    }

    private void readDesc(long table, int i) throws RingException {
        desc.clear();
        read(table + (long) DESC_SIZE * i, desc, "descriptor");
    }

    private int readU16(long address, String what) throws RingException {
        two.clear();
        read(address, two, what);
        return two.getShort(0) & 0xFFFF;
    }

    private void writeU16(long address, int value, String what) throws RingException {
        two.clear();
        two.putShort(0, (short) value);
        write(address, two, what);
    }

    private void read(long address, ByteBuffer buf, String what) throws RingException {
        try {
            memory.read(address, buf);
        } catch (GuestMemoryException e) {
            throw new RingException("queue " + layout.index() + ": " + what + " at 0x" + Long.toHexString(address)
                    + " unreadable: " + e.getMessage());
        }
    }

    private void write(long address, ByteBuffer buf, String what) throws RingException {
        try {
            memory.write(address, buf);
        } catch (GuestMemoryException e) {
            throw new RingException("queue " + layout.index() + ": " + what + " at 0x" + Long.toHexString(address)
                    + " unwritable: " + e.getMessage());
        }
    }
}
