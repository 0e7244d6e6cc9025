package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every hand-written vector decodes to its record, and the record encodes back to exactly those bytes. */
class GoldenTest {

    static final Limits LIMITS = Limits.of(1 << 20, 16);

    static List<Golden> vectors() {
        return GoldenDataVectors.everything();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void decodesToTheRecord(Golden g) throws ProtocolException {
        ByteBuffer buf = ByteBuffer.wrap(g.bytes());
        Header h = Header.decode(buf);
        assertEquals(g.msgId(), h.msgId());
        assertEquals(buf.remaining(), h.payloadSize(), "size field matches the vector");
        Message m = MessageDecoder.decode(h, buf, g.fdCount(), LIMITS);
        assertEquals(g.expected(), m);
    }

    /** The vectors our encoder must reproduce byte for byte. */
    static List<Golden> encodable() {
        return vectors().stream().filter(Golden::encodes).toList();
    }

    /** The vectors written by another implementation, or of a message we never send. */
    static List<Golden> decodeOnly() {
        return vectors().stream().filter(g -> !g.encodes()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodable")
    void encodesToTheBytes(Golden g) {
        ByteBuffer out = MessageEncoder.encode(g.msgId(), g.expected(), g.extraFlags());
        assertEquals(Hex.of(ByteBuffer.wrap(g.bytes())), Hex.of(out));
        assertEquals(g.bytes().length, MessageEncoder.encodedSize(g.expected()));
    }

    /**
     * A vector exempt from {@link #encodesToTheBytes} must say why, or the exemption hides an encoder bug: an
     * {@link Unknown} cannot be encoded at all, and any other decode-only vector is one our encoder writes
     * differently (QEMU's JSON key order and spacing) yet to bytes that decode to the same record.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeOnly")
    void aDecodeOnlyVectorIsOneTheEncoderCannotOrDoesNotReproduce(Golden g) throws ProtocolException {
        if (g.expected() instanceof Unknown) {
            assertThrows(IllegalArgumentException.class,
                    () -> MessageEncoder.encode(g.msgId(), g.expected(), g.extraFlags()));
        } else {
            ByteBuffer out = MessageEncoder.encode(g.msgId(), g.expected(), g.extraFlags());
            assertNotEquals(Hex.of(ByteBuffer.wrap(g.bytes())), Hex.of(out.duplicate()),
                    "our encoder reproduces this vector: let encodesToTheBytes check it");
            assertEquals(g.expected(), MessageDecoder.decode(out, g.fdCount(), LIMITS));
        }
    }

    @Test
    void everyCommandHasARequestAndAReplyVector() {
        Set<Command> requests = EnumSet.noneOf(Command.class);
        Set<Command> replies = EnumSet.noneOf(Command.class);
        for (Golden g : vectors()) {
            if (g.expected() instanceof Message.Request r) {
                requests.add(r.command());
            } else if (g.expected() instanceof Message.Reply r) {
                replies.add(r.command());
            }
        }
        assertEquals(EnumSet.allOf(Command.class), requests);
        assertEquals(EnumSet.allOf(Command.class), replies);
    }

    @Test
    void decodedDataIsAViewOfTheInputNotACopy() throws ProtocolException {
        byte[] wire = Hex.bytes("1100 0a00 22000000 00000000 00000000 0400000000000000 07000000 02000000 0600");
        Message m = MessageDecoder.decode(ByteBuffer.wrap(wire), 0, LIMITS);
        RegionWrite.Request w = (RegionWrite.Request) m;
        wire[32] = 9;
        assertEquals(9, w.data().get(0), "zero copy: the record sees the input buffer");
        assertTrue(w.data().isReadOnly());
    }

    @Test
    void recordDataCannotBeDisturbedThroughTheAccessor() {
        RegionRead.Reply r = new RegionRead.Reply(0, 0, Bytes.of((byte) 1, (byte) 2));
        r.data().get();
        assertEquals(2, r.count());
        assertEquals(new RegionRead.Reply(0, 0, Bytes.of((byte) 1, (byte) 2)), r);
        assertFalse(r.equals(new RegionRead.Reply(0, 0, Bytes.of((byte) 1, (byte) 3))));
    }
}
