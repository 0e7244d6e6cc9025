package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * How records hold data payloads: a read-only {@link ByteBuffer} covering exactly the data
 * (position 0, limit = length). Decoding slices the input buffer (zero copy); {@link ByteBuffer#equals}
 * compares content, so records compare by value. The buffer a message was decoded from must not be reused
 * while the message is alive.
 */
public final class Bytes {

    private Bytes() {
    }

    /** A read-only view of {@code data}'s remaining bytes; does not copy and does not move its position. */
    public static ByteBuffer view(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        return data.slice().asReadOnlyBuffer();
    }

    /** A read-only buffer over a copy of {@code bytes} (for tests and small constants). */
    public static ByteBuffer of(byte... bytes) {
        return ByteBuffer.wrap(bytes.clone()).asReadOnlyBuffer();
    }

    /** An independent cursor over the same bytes, so a caller cannot disturb the record's view. */
    static ByteBuffer cursor(ByteBuffer view) {
        return view.duplicate();
    }
}
