package io.vfu.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The device API is {@code io.vfu.device} (what a device implements and is lent) and {@code io.vfu.device.pci}
 * (the PCI toolkit). Its public surface is listed in {@code api.txt}; a change to it fails here until the
 * listing is updated on purpose ({@code mvn test -pl device-model -Dtest=ApiListingTest -Dvfu.api.update=true}),
 * so no one changes what device authors build on by accident. {@code io.vfu.device.memmove} is the built-in
 * default device, not API.
 */
class ApiListingTest {

    private static final List<String> API_PACKAGES = List.of("io.vfu.device", "io.vfu.device.pci");
    private static final Path LISTING = Path.of("api.txt");

    @Test
    void thePublicApiIsTheCheckedInListing() throws Exception {
        String now = String.join("\n", listing()) + "\n";
        if (Boolean.getBoolean("vfu.api.update")) {
            Files.writeString(LISTING, now);
        }
        assertEquals(Files.readString(LISTING), now, "the device API changed; if that is intended, regenerate "
                + "device-model/api.txt with -Dvfu.api.update=true and say so in the commit");
    }

    @Test
    void everyPublicTypeOfTheApiHasJavadoc() throws Exception {
        Pattern type = Pattern.compile("^public (?:final |abstract |sealed |non-sealed )*(?:class|interface|record|"
                + "enum|@interface) (\\w+)", Pattern.MULTILINE);
        for (String pkg : API_PACKAGES) {
            Path dir = Path.of("src/main/java", pkg.replace('.', '/'));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String src = Files.readString(f);
                    Matcher m = type.matcher(src);
                    if (!m.find()) {
                        continue;
                    }
                    // Rule: the declaration (after any annotations) follows a javadoc comment.
                    String before = src.substring(0, m.start()).replaceAll("(?m)^@\\w+(\\([^)]*\\))?\\s*$", "").strip();
                    assertTrue(before.endsWith("*/")
                            && before.lastIndexOf("/**") > before.lastIndexOf("*/", before.length() - 3),
                            f + ": public type " + m.group(1) + " has no javadoc");
                }
            }
        }
    }

    private static List<String> listing() throws Exception {
        List<String> lines = new ArrayList<>();
        for (String pkg : API_PACKAGES) {
            Path dir = Path.of("target/classes", pkg.replace('.', '/'));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                    String name = f.getFileName().toString().replace(".class", "");
                    Class<?> c = Class.forName(pkg + "." + name, false, ApiListingTest.class.getClassLoader());
                    if (Modifier.isPublic(c.getModifiers()) && !c.isAnonymousClass() && !c.isSynthetic()
                            && isVisible(c)) {
                        describe(c, lines);
                    }
                }
            }
        }
        return lines;
    }

    /** A nested type is API only if every enclosing type is public too. */
    private static boolean isVisible(Class<?> c) {
        for (Class<?> e = c.getEnclosingClass(); e != null; e = e.getEnclosingClass()) {
            if (!Modifier.isPublic(e.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    private static void describe(Class<?> c, List<String> out) {
        out.add(c.toGenericString());
        List<String> members = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (visible(f)) {
                members.add("  " + f.toGenericString());
            }
        }
        for (Executable e : c.getDeclaredConstructors()) {
            if (visible(e)) {
                members.add("  " + e.toGenericString());
            }
        }
        for (Executable e : c.getDeclaredMethods()) {
            if (visible(e) && !e.isSynthetic()) {
                members.add("  " + e.toGenericString());
            }
        }
        members.sort(null);
        out.addAll(members);
    }

    private static boolean visible(Member m) {
        return (m.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED)) != 0 && !m.isSynthetic();
    }
}
