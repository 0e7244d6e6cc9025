package io.vfu.it;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * vfio-user messages as bytes, built straight from the spec's layouts (QEMU {@code docs/interop/vfio-user.rst})
 * rather than with the codec under test, so a test can send exactly what it means, valid or not. All fields are
 * little-endian. Header: {@code msg_id u16, command u16, size u32, flags u32, error u32}.
 */
final class WireMessages {

    static final int VERSION = 1;
    static final int DMA_MAP = 2;
    static final int DMA_UNMAP = 3;
    static final int DEVICE_GET_INFO = 4;
    static final int DEVICE_GET_REGION_INFO = 5;
    static final int DEVICE_GET_REGION_IO_FDS = 6;
    static final int DEVICE_GET_IRQ_INFO = 7;
    static final int DEVICE_SET_IRQS = 8;
    static final int REGION_READ = 9;
    static final int REGION_WRITE = 10;
    static final int DMA_READ = 11;
    static final int DMA_WRITE = 12;
    static final int DEVICE_RESET = 13;
    static final int REGION_WRITE_MULTI = 15;
    static final int DEVICE_FEATURE = 16;
    static final int MIG_DATA_READ = 17;
    static final int MIG_DATA_WRITE = 18;

    static final int HEADER = 16;
    /** Header flags: type in bits 0-3 (0 command, 1 reply), No_reply 0x10, Error 0x20. */
    static final int TYPE_REPLY = 0x1;
    static final int NO_REPLY = 0x10;
    static final int ERROR = 0x20;

    /** DMA_MAP flags READ and WRITE; DMA_UNMAP flag for unmapping every window. */
    static final int DMA_READ_WRITE = 0x3;
    static final int UNMAP_ALL = 0x2;

    /** What QEMU 11 offers in VERSION (see /work/shared/notes/vfio-user-facts.md). */
    static final String QEMU_CAPABILITIES = "{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
            + "\"pgsizes\":4096,\"max_dma_maps\":65535,\"migration\":{\"pgsize\":4096,"
            + "\"max_bitmap_size\":268435456},\"write_multiple\":true}}";

    private WireMessages() {
    }

    /** A whole message: header (size = 16 + payload) then payload. */
    static byte[] message(int msgId, int command, int flags, byte[] payload) {
        return le(HEADER + payload.length).putShort((short) msgId).putShort((short) command)
                .putInt(HEADER + payload.length).putInt(flags).putInt(0).put(payload).array();
    }

    /** VERSION: {@code major u16, minor u16}, then the JSON text and its NUL when {@code nul}. */
    static byte[] version(int major, int minor, String json, boolean nul) {
        byte[] text = json.getBytes(StandardCharsets.UTF_8);
        return le(4 + text.length + (nul ? 1 : 0)).putShort((short) major).putShort((short) minor).put(text).array();
    }

    /** DMA_MAP: {@code argsz u32 (32), flags u32, offset u64, address u64, size u64}. */
    static byte[] dmaMap(int flags, long offset, long address, long size) {
        return le(32).putInt(32).putInt(flags).putLong(offset).putLong(address).putLong(size).array();
    }

    /** DMA_UNMAP: {@code argsz u32 (24), flags u32, address u64, size u64}. */
    static byte[] dmaUnmap(int flags, long address, long size) {
        return le(24).putInt(24).putInt(flags).putLong(address).putLong(size).array();
    }

    /** DEVICE_GET_INFO: {@code argsz u32, flags u32, num_regions u32, num_irqs u32}. */
    static byte[] getInfo(int argsz) {
        return le(16).putInt(argsz).putInt(0).putInt(0).putInt(0).array();
    }

    /** DEVICE_GET_REGION_INFO: {@code argsz u32, flags u32, index u32, cap_offset u32, size u64, offset u64}. */
    static byte[] regionInfo(int argsz, int index) {
        return le(32).putInt(argsz).putInt(0).putInt(index).putInt(0).putLong(0).putLong(0).array();
    }

    /** DEVICE_GET_REGION_IO_FDS: {@code argsz u32, flags u32, index u32, count u32}. */
    static byte[] regionIoFds(int argsz, int index) {
        return le(16).putInt(argsz).putInt(0).putInt(index).putInt(0).array();
    }

    /** DEVICE_GET_IRQ_INFO: {@code argsz u32, flags u32, index u32, count u32}. */
    static byte[] irqInfo(int index) {
        return le(16).putInt(16).putInt(0).putInt(index).putInt(0).array();
    }

    /** DEVICE_SET_IRQS: {@code argsz u32, flags u32, index u32, start u32, count u32}, then bool bytes. */
    static byte[] setIrqs(int flags, int index, int start, int count, byte[] bools) {
        return le(20 + bools.length).putInt(20 + bools.length).putInt(flags).putInt(index).putInt(start)
                .putInt(count).put(bools).array();
    }

    /** REGION_READ: {@code offset u64, region u32, count u32}. */
    static byte[] regionRead(int region, long offset, int count) {
        return le(16).putLong(offset).putInt(region).putInt(count).array();
    }

    /** REGION_WRITE: {@code offset u64, region u32, count u32, data}. */
    static byte[] regionWrite(int region, long offset, byte[] data) {
        return le(16 + data.length).putLong(offset).putInt(region).putInt(data.length).put(data).array();
    }

    /** REGION_WRITE of one little-endian dword. */
    static byte[] regionWrite32(int region, long offset, int value) {
        return regionWrite(region, offset, le(4).putInt(value).array());
    }

    /** REGION_WRITE_MULTI: {@code wr_cnt u64}, then entries {@code offset u64, region u32, count u32, data[8]}. */
    static byte[] writeMulti(long[] offsets, int[] regions, byte[][] data) {
        ByteBuffer b = le(8 + 24 * offsets.length).putLong(offsets.length);
        for (int i = 0; i < offsets.length; i++) {
            b.putLong(offsets[i]).putInt(regions[i]).putInt(data[i].length).put(data[i])
                    .position(b.position() + 8 - data[i].length);
        }
        return b.array();
    }

    /** DEVICE_FEATURE: {@code argsz u32, flags u32, data}. */
    static byte[] deviceFeature(int argsz, int flags, byte[] data) {
        return le(8 + data.length).putInt(argsz).putInt(flags).put(data).array();
    }

    /** MIG_DATA_READ: {@code argsz u32, size u32}; MIG_DATA_WRITE: the same, then data. */
    static byte[] migData(int argsz, int size, byte[] data) {
        return le(8 + data.length).putInt(argsz).putInt(size).put(data).array();
    }

    /** DMA_READ / DMA_WRITE (server commands): {@code address u64, count u64}, then data for a write. */
    static byte[] dmaAccess(long address, long count, byte[] data) {
        return le(16 + data.length).putLong(address).putLong(count).put(data).array();
    }

    /** A 32-byte DMA engine descriptor (LAYOUT.md "DMA copy engine"). */
    static byte[] descriptor(long source, long destination, int length, int flags, long record) {
        return le(DeviceLayout.DESCRIPTOR).putLong(source).putLong(destination).putInt(length).putInt(flags)
                .putLong(record).array();
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
