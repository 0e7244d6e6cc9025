package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** protocol must never depend on device-model (style: neither imports the other). */
class DependencyDirectionTest {

    @Test
    void deviceModelIsNotOnTheClasspath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.vfu.device.PciFunction"));
    }

    @Test
    void noSourceOrClassMentionsTheDevicePackage() throws IOException {
        Path module = moduleDir();
        List<Path> roots = List.of(module.resolve("src/main/java"), module.resolve("target/classes"));
        int scanned = 0;
        for (Path root : roots) {
            assertTrue(Files.isDirectory(root), root + " exists");
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    // Binary names in class files use slashes; sources use dots.
                    assertFalse(text.contains("io.vfu.device") || text.contains("io/vfu/device"),
                            f + " refers to io.vfu.device");
                    scanned++;
                }
            }
        }
        assertTrue(scanned > 20, "scanned the module's sources and classes");
    }

    @Test
    void thePomDoesNotDeclareDeviceModel() throws IOException {
        String pom = Files.readString(moduleDir().resolve("pom.xml"));
        assertFalse(pom.contains("vfu-device-model"), "protocol/pom.xml must not depend on device-model");
    }

    private static Path moduleDir() {
        Path p = Path.of("").toAbsolutePath();
        // Surefire runs in the module directory; from the parent, use protocol/.
        return Files.exists(p.resolve("src/main/java/io/vfu/protocol")) ? p : p.resolve("protocol");
    }
}
