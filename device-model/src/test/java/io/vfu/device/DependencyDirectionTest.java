package io.vfu.device;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** device-model never depends on protocol (the mirror of protocol's test). */
class DependencyDirectionTest {

    @Test
    void protocolIsNotOnTheClasspath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.vfu.protocol.Header"));
    }

    @Test
    void sourcesDoNotReferenceProtocol() throws IOException {
        Path main = Path.of("src/main/java");
        assertTrue(Files.isDirectory(main), "run from the module directory");
        try (Stream<Path> files = Files.walk(main)) {
            List<Path> offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                try {
                    return Files.readString(p).contains("io.vfu.protocol");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
            assertEquals(List.of(), offenders);
        }
    }
}
