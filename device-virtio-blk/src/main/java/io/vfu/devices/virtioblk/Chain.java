package io.vfu.devices.virtioblk;

import java.util.List;

/**
 * A descriptor chain as the device will use it (virtio 1.2, 2.7.5): the head the used ring returns, and its
 * buffers in order, device-readable ones first.
 *
 * @param head     the head descriptor index
 * @param buffers  the buffers, readable before writable
 * @param readable bytes the device may read (sum of readable buffers)
 * @param writable bytes the device may write (sum of writable buffers)
 */
record Chain(int head, List<Buffer> buffers, long readable, long writable) {

    /** One guest buffer: {@code length} bytes at guest address {@code address}. */
    record Buffer(long address, int length, boolean writable) {
    }
}
