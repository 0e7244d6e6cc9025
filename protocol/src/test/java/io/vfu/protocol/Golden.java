package io.vfu.protocol;

/**
 * One hand-written test vector: a whole message (header and payload) as annotated hex, the record it means,
 * and how it travels.
 *
 * @param encodes false for vectors written by another implementation (QEMU's JSON layout) that we decode but
 *                do not reproduce byte for byte
 */
record Golden(String name, String hex, Message expected, int msgId, int extraFlags, int fdCount,
              boolean encodes) {

    static Golden of(String name, String hex, Message expected, int msgId) {
        return new Golden(name, hex, expected, msgId, 0, 0, true);
    }

    Golden fds(int n) {
        return new Golden(name, hex, expected, msgId, extraFlags, n, encodes);
    }

    Golden noReply() {
        return new Golden(name, hex, expected, msgId, Header.FLAG_NO_REPLY, fdCount, encodes);
    }

    Golden decodeOnly() {
        return new Golden(name, hex, expected, msgId, extraFlags, fdCount, false);
    }

    byte[] bytes() {
        return Hex.bytes(hex);
    }

    @Override
    public String toString() {
        return name;
    }
}
