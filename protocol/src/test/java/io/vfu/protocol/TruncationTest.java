package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Cutting every vector at every byte yields only our typed exceptions. */
class TruncationTest {

    static final Limits LIMITS = GoldenTest.LIMITS;

    static List<Golden> vectors() {
        return GoldenDataVectors.everything();
    }

    /** A prefix with the header's size unchanged is a broken frame: FramingException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void everyPrefixIsAFramingError(Golden g) {
        byte[] wire = g.bytes();
        for (int n = 0; n < wire.length; n++) {
            ByteBuffer prefix = ByteBuffer.wrap(Arrays.copyOf(wire, n));
            assertThrows(FramingException.class, () -> MessageDecoder.decode(prefix, g.fdCount(), LIMITS),
                    "prefix of " + n + " bytes");
        }
    }

    /**
     * A prefix whose size field is rewritten to match is well framed: it must be rejected with a
     * MessageException, or be a valid shorter message that survives an encode/decode round trip.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void everyReframedPrefixIsRejectedOrValid(Golden g) {
        byte[] wire = g.bytes();
        for (int n = Header.SIZE; n < wire.length; n++) {
            byte[] cut = Vectors.setU32(Arrays.copyOf(wire, n), 4, n);
            for (int fds : new int[] {0, g.fdCount()}) {
                Message m;
                try {
                    m = Vectors.decode(cut, fds, LIMITS);
                } catch (MessageException e) {
                    continue;
                } catch (ProtocolException e) {
                    fail("prefix " + n + ": framing error for a well-framed message: " + e.getMessage());
                    return;
                }
                if (m instanceof Unknown) {
                    continue;
                }
                ByteBuffer again = MessageEncoder.encode(1, m, 0);
                try {
                    assertEquals(m, MessageDecoder.decode(again, fds, LIMITS), "prefix " + n);
                } catch (ProtocolException e) {
                    fail("prefix " + n + " decoded to " + m + " which does not re-decode: " + e.getMessage());
                }
            }
        }
    }
}
