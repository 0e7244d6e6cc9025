package io.vfu.device.memmove;

import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Guest RAM as one array at a base bus address; anything outside faults, as an unmapped DMA address does. With
 * {@link #directFrom} set, {@link #direct} serves the bytes in place below that address (a window the server
 * mapped) and declines above it (a window reachable by message only); at {@link #faultFrom} and above, a direct
 * access fails as a file a client shrank does.
 */
final class TestMemory implements GuestMemory {
    final long base;
    final byte[] ram;
    final ByteBuffer view;
    long directFrom = -1;
    long directTo = Long.MAX_VALUE;
    long faultFrom = Long.MAX_VALUE;
    /** A range holding this address is reachable by message only (a window of its own, not mapped). */
    long messageOnlyAt = -1;
    int directCalls;

    TestMemory(long base, int size) {
        this.base = base;
        this.ram = new byte[size];
        this.view = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
    }

    private int index(long address, int length) throws GuestMemoryException {
        long off = address - base;
        if (Long.compareUnsigned(address, base) < 0 || off > ram.length - (long) length) {
            throw new GuestMemoryException("unmapped 0x" + Long.toHexString(address) + "+" + length);
        }
        return (int) off;
    }

    @Override
    public void read(long address, ByteBuffer dst) throws GuestMemoryException {
        int i = index(address, dst.remaining());
        dst.put(ram, i, dst.remaining());
    }

    @Override
    public void write(long address, ByteBuffer src) throws GuestMemoryException {
        int i = index(address, src.remaining());
        src.get(ram, i, src.remaining());
    }

    @Override
    public boolean direct(long address, long length, boolean write, DirectAccess access)
            throws GuestMemoryException {
        directCalls++;
        if (directFrom < 0 || address < directFrom || address + length > directTo
                || (messageOnlyAt >= address && messageOnlyAt < address + length)) {
            return false;
        }
        if (address + length > faultFrom) {
            throw new GuestMemoryException("direct DMA at 0x" + Long.toHexString(address) + " faulted");
        }
        int i = index(address, (int) length);
        try {
            access.access(java.lang.foreign.MemorySegment.ofArray(ram).asSlice(i, length));
        } catch (java.io.IOException e) {
            throw new GuestMemoryException(e.getMessage(), e);
        }
        return true;
    }

    void putLong(long address, long v) {
        view.putLong((int) (address - base), v);
    }

    void putInt(long address, int v) {
        view.putInt((int) (address - base), v);
    }

    int getInt(long address) {
        return view.getInt((int) (address - base));
    }
}
