package io.vfu.transport;

import io.vfu.protocol.Header;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test helpers that build raw message bytes by hand from the spec header table. */
final class Messages {

    private Messages() {
    }

    /** A command header's 16 bytes: msg_id u16, command u16, size u32, flags u32, error u32 (little-endian). */
    static byte[] header(int msgId, int command, long size, int flags) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) msgId).putShort((short) command).putInt((int) size).putInt(flags).putInt(0);
        return b.array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static ByteBuffer filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    static Header command(int msgId, int command, int payload) {
        return new Header(msgId, command, Header.SIZE + payload, Header.TYPE_COMMAND, 0);
    }
}
