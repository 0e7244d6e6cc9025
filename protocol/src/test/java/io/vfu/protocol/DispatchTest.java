package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Header-level rules: framing errors, unknown commands, error replies, fd limits, and exhaustive dispatch. */
class DispatchTest {

    static final Limits LIMITS = GoldenTest.LIMITS;

    @Test
    void unknownCommandIsAMessageNotAFramingError() throws ProtocolException {
        for (int cmd : new int[] {0, 14, 19, 0xFFFF}) {
            byte[] wire = Hex.bytes("0900 0000 14000000 00000000 00000000 deadbeef");
            wire[2] = (byte) cmd;
            wire[3] = (byte) (cmd >> 8);
            Message m = Vectors.decode(wire, 3, LIMITS);
            Unknown u = assertInstanceOf(Unknown.class, m);
            assertEquals(cmd, u.commandCode());
            assertEquals(9, u.header().msgId());
        }
    }

    @Test
    void unknownCannotBeEncoded() {
        assertThrows(IllegalArgumentException.class,
                () -> MessageEncoder.encode(1, new Unknown(new Header(1, 14, 16, 0, 0)), 0));
    }

    @Test
    void framingErrors() {
        // size below the header, size above the maximum, type 2
        for (String hex : new String[] {"0100 0400 0f000000 00000000 00000000",
            "0100 0400 ffffffff 00000000 00000000", "0100 0400 10000000 02000000 00000000"}) {
            ByteBuffer b = Hex.buf(hex);
            assertThrows(FramingException.class, () -> MessageDecoder.decode(b, 0, LIMITS), hex);
        }
        // 17 bytes against a 16-byte maximum, with every byte present.
        assertThrows(FramingException.class, () -> MessageDecoder.decode(
                Hex.buf("0100 0d00 11000000 00000000 00000000 00"), 0, new Limits(16, 0, 0)));
    }

    @Test
    void errorReplies() throws ProtocolException {
        assertEquals(new ErrorReply(4, 0), Vectors.decode(Hex.bytes("0100 0400 10000000 21000000 00000000"), 0, LIMITS));
        // An error reply carries only the header.
        Vectors.assertErrno(Errno.EINVAL, Hex.bytes("0100 0400 14000000 21000000 16000000 00000000"), 0, LIMITS);
        // A command must not carry the Error flag.
        Vectors.assertErrno(Errno.EINVAL, Hex.bytes("0100 0d00 10000000 20000000 00000000"), 0, LIMITS);
        assertEquals(Header.errorReply(5, 9, Errno.ENOSYS),
                Header.decode(MessageEncoder.encode(5, ErrorReply.of(9, Errno.ENOSYS), 0)));
    }

    @Test
    void moreFdsThanMaxMsgFdsIsEinval() {
        Golden g = Vectors.named("DMA_MAP request");
        Vectors.assertErrno(Errno.EINVAL, g.bytes(), 1, new Limits(4096, 1024, 0));
        Vectors.assertErrno(Errno.EINVAL, Vectors.named("DEVICE_GET_REGION_IO_FDS reply").bytes(), 2,
                new Limits(4096, 1024, 1));
    }

    @Test
    void noReplyFlagIsOnlyForCommands() throws ProtocolException {
        assertThrows(IllegalArgumentException.class,
                () -> MessageEncoder.encode(1, new DeviceReset.Reply(), Header.FLAG_ERROR));
        assertEquals(Header.FLAG_NO_REPLY, Header.decode(
                ByteBuffer.wrap(asBytes(MessageEncoder.encode(1, new DeviceReset.Request(), Header.FLAG_NO_REPLY))))
                .flags());
    }

    @Test
    void encodeIntoATooSmallBufferFailsWithoutWriting() {
        ByteBuffer small = ByteBuffer.allocate(20);
        assertThrows(java.nio.BufferOverflowException.class,
                () -> MessageEncoder.encode(1, new RegionRead.Request(0, 0, 4), 0, small));
        assertEquals(0, small.position());
    }

    /** A server-style dispatch: a pattern switch with no default compiles only while it covers every request. */
    static String handle(Message.Request r) {
        return switch (r) {
            case Version.Request v -> "version";
            case DmaMap.Request v -> "map";
            case DmaUnmap.Request v -> "unmap";
            case DeviceGetInfo.Request v -> "info";
            case DeviceGetRegionInfo.Request v -> "region";
            case DeviceGetRegionIoFds.Request v -> "iofds";
            case DeviceGetIrqInfo.Request v -> "irq";
            case DeviceSetIrqs.Request v -> "setirqs";
            case RegionRead.Request v -> "read";
            case RegionWrite.Request v -> "write";
            case DmaRead.Request v -> "dmaread";
            case DmaWrite.Request v -> "dmawrite";
            case DeviceReset.Request v -> "reset";
            case RegionWriteMulti.Request v -> "multi";
            case DeviceFeature.Request v -> "feature";
            case MigDataRead.Request v -> "migread";
            case MigDataWrite.Request v -> "migwrite";
        };
    }

    @Test
    void everyRequestVectorDispatches() {
        for (Golden g : GoldenDataVectors.everything()) {
            if (g.expected() instanceof Message.Request r) {
                assertEquals(false, handle(r).isEmpty());
            }
        }
    }

    static byte[] asBytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }
}
