package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * An error reply (spec "Header"): the header alone with the Error flag and an errno, which may be zero.
 * It answers any command, including ones we do not know, so it carries the raw command number.
 *
 * @param command the command being answered (u16)
 * @param errno   the UNIX errno (u32); see {@link Errno#fromCode}
 */
public record ErrorReply(int command, long errno) implements Message {

    public ErrorReply {
        Checks.u16(command, "command");
        Checks.u32(errno, "errno");
    }

    public static ErrorReply of(int command, Errno errno) {
        return new ErrorReply(command, errno.code());
    }

    @Override
    public int commandCode() {
        return command;
    }

    @Override
    public int payloadSize() {
        return 0;
    }

    @Override
    public void writePayload(ByteBuffer out) {
        // Rule: an error reply carries only the header.
    }
}
