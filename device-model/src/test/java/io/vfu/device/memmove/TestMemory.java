package io.vfu.device.memmove;

import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Guest RAM as one array at a base bus address; anything outside faults, as an unmapped DMA address does. */
final class TestMemory implements GuestMemory {
    final long base;
    final byte[] ram;
    final ByteBuffer view;

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
