package io.vfu.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Hex test vectors: whitespace is ignored and {@code //} starts a comment that runs to the end of the line. */
final class Hex {

    private Hex() {
    }

    static byte[] bytes(String annotated) {
        StringBuilder sb = new StringBuilder();
        for (String line : annotated.split("\n")) {
            int c = line.indexOf("//");
            sb.append(c >= 0 ? line.substring(0, c) : line);
        }
        return HexFormat.of().parseHex(sb.toString().replaceAll("\\s+", ""));
    }

    /** The hex of a text's UTF-8 bytes, for the JSON in VERSION vectors. */
    static String ascii(String text) {
        return HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8));
    }

    static String of(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return HexFormat.of().formatHex(a);
    }

    static ByteBuffer buf(String hex) {
        return ByteBuffer.wrap(bytes(hex));
    }
}
