package io.vfu.devices.gpio;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The guide's code is this module's code: every Java block of {@code docs/writing-a-device.md} must appear, line
 * for line, in the module's sources, which the build compiles and these tests run.
 */
class GuideTest {

    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyJavaBlockOfTheGuideIsCompiledSource() throws Exception {
        Path guide = Path.of("..", "docs", "writing-a-device.md");
        String sources = normalize(sources(Path.of("src")));
        Matcher m = JAVA_BLOCK.matcher(Files.readString(guide));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertFalse(blocks.isEmpty(), "the guide shows code");
        for (String block : blocks) {
            assertTrue(sources.contains(normalize(block)), "this block of the guide is not in device-gpio's "
                    + "sources (update one or the other):\n" + block);
        }
    }

    private static String sources(Path root) throws Exception {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                all.append(Files.readString(f)).append('\n');
            }
        }
        return all.toString();
    }

    /** Lines stripped of surrounding blanks, so indentation does not matter. */
    private static String normalize(String text) {
        return String.join("\n", text.lines().map(String::strip).toList());
    }
}
