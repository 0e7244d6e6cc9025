package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The in-place hot-path encoders produce exactly what the record encoder produces. */
class InPlaceEncodeTest {

    @Test
    void regionReadReplyInPlaceMatchesTheGoldenVector() {
        ByteBuffer out = ByteBuffer.allocate(64);
        ByteBuffer data = MessageEncoder.regionReadReplyInPlace(16, 0x10, 7, 4, out);
        data.put(GoldenDataVectors.b(0x86, 0x80, 0x34, 0x12));
        assertEquals(Hex.of(Hex.buf(Vectors.named("REGION_READ reply").hex())), Hex.of(out.flip()));
    }

    @Test
    void dmaWriteRequestInPlaceMatchesTheGoldenVector() {
        ByteBuffer out = ByteBuffer.allocate(64);
        MessageEncoder.dmaWriteRequestInPlace(19, 0xFEE0_0000L, 4, out).put((byte) 0x41);
        assertEquals(Hex.of(Hex.buf(Vectors.named("DMA_WRITE request").hex())), Hex.of(out.flip()));
    }
}
