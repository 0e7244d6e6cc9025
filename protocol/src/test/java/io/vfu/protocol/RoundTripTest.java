package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** decode(encode(x)) == x over random valid messages of every kind, and the size is reported up front. */
class RoundTripTest {

    @Test
    void randomMessagesRoundTrip() throws ProtocolException {
        Random random = new Random(0x7f0e_11e5L);
        RandomMessages gen = new RandomMessages(random, 300);
        Limits limits = Limits.of(4096, 16);
        Set<Command> seen = EnumSet.noneOf(Command.class);
        for (int i = 0; i < 20_000; i++) {
            RandomMessages.Sample s = gen.next();
            Message m = s.message();
            int id = random.nextInt(65536);
            int extra = m instanceof Message.Request && random.nextBoolean() ? Header.FLAG_NO_REPLY : 0;
            ByteBuffer out = ByteBuffer.allocate(MessageEncoder.encodedSize(m) + 7);
            out.position(3);
            MessageEncoder.encode(id, m, extra, out);
            assertEquals(3 + MessageEncoder.encodedSize(m), out.position(), "encodedSize is exact: " + m);
            out.flip().position(3);
            Header h = Header.decode(out);
            assertEquals(id, h.msgId());
            assertEquals(extra != 0, h.noReply());
            Message back = MessageDecoder.decode(h, out.slice(out.position(), h.payloadSize()), s.fds(), limits);
            assertEquals(m, back, "case " + i);
            if (m instanceof Message.Request r) {
                seen.add(r.command());
            } else if (m instanceof Message.Reply r) {
                seen.add(r.command());
            }
        }
        assertEquals(EnumSet.allOf(Command.class), seen, "every command was generated");
    }
}
