package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * A message whose command number we do not know (including the removed command 14). It is well framed, so it
 * is not a framing error: a server answers a command with ENOSYS. The payload is not kept.
 */
public record Unknown(Header header) implements Message {

    @Override
    public int commandCode() {
        return header.command();
    }

    @Override
    public int payloadSize() {
        throw new UnsupportedOperationException("an unknown message cannot be encoded");
    }

    @Override
    public void writePayload(ByteBuffer out) {
        throw new UnsupportedOperationException("an unknown message cannot be encoded");
    }
}
