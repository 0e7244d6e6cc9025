package io.vfu.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a Linux process holds, read from {@code /proc/PID}: open fds ({@code fd/}), threads ({@code task/}) and
 * memory mappings ({@code maps}, one line per VMA). Works for this JVM ({@link #self()}) and for a server
 * started as its own process. A process that has gone reads as a {@link ProcessGoneException}.
 */
final class ProcessResources {

    private final long pid;
    private final Path proc;

    private ProcessResources(long pid) {
        this.pid = pid;
        this.proc = Path.of("/proc", Long.toString(pid));
    }

    static ProcessResources of(long pid) {
        return new ProcessResources(pid);
    }

    /** This JVM (an in-process server included). */
    static ProcessResources self() {
        return of(ProcessHandle.current().pid());
    }

    long pid() {
        return pid;
    }

    /** Open fds (listing {@code fd/} of this JVM counts the listing's own fd too, in every count alike). */
    int fds() {
        return count(proc.resolve("fd"));
    }

    /** Threads, JVM-internal ones included. */
    int threads() {
        return count(proc.resolve("task"));
    }

    /** Mappings (VMAs): one per line of {@code maps}. */
    int mappings() {
        return mappingLines().size();
    }

    /** The lines of {@code maps}. */
    List<String> mappingLines() {
        try {
            return Files.readAllLines(proc.resolve("maps"));
        } catch (IOException e) {
            throw gone(e);
        }
    }

    /** Lines of {@code maps} that contain {@code text} (e.g. {@code "/memfd:NAME"}). */
    List<String> mappingsNaming(String text) {
        return mappingLines().stream().filter(l -> l.contains(text)).toList();
    }

    /**
     * Threads by name ({@code task/TID/comm}: the kernel keeps the first 15 bytes of a name, so numbered
     * threads of one pool share a prefix).
     */
    Map<String, Long> threadNames() {
        return tally(proc.resolve("task"), t -> read(t.resolve("comm")).strip());
    }

    /**
     * Fds by what they point at, with the inode number dropped: {@code socket:}, {@code pipe:},
     * {@code anon_inode:[eventfd]}, {@code /memfd:NAME (deleted)}, a path.
     */
    Map<String, Long> fdKinds() {
        return tally(proc.resolve("fd"), f -> {
            try {
                return Files.readSymbolicLink(f).toString().replaceFirst("^(socket|pipe):\\[\\d+]$", "$1:");
            } catch (IOException e) {
                return "(closed while listed)";
            }
        });
    }

    /**
     * Mappings by what backs them: the path (or {@code [heap]}, {@code [stack]}, ...) and the permissions,
     * {@code anon} for anonymous ones.
     */
    Map<String, Long> mappingKinds() {
        return mappingKinds(mappingLines());
    }

    /** {@link #mappingKinds()} of lines read before. */
    static Map<String, Long> mappingKinds(List<String> maps) {
        return maps.stream().collect(Collectors.groupingBy(l -> {
            String[] f = l.trim().split("\\s+", 6);
            return f[1] + " " + (f.length == 6 ? f[5] : "anon");
        }, TreeMap::new, Collectors.counting()));
    }

    /** Entries of {@code b} minus entries of {@code a}, per key, leaving out keys that did not change. */
    static Map<String, Long> difference(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> d = new TreeMap<>();
        for (String k : union(a, b)) {
            long delta = b.getOrDefault(k, 0L) - a.getOrDefault(k, 0L);
            if (delta != 0) {
                d.put(k, delta);
            }
        }
        return d;
    }

    private static List<String> union(Map<String, Long> a, Map<String, Long> b) {
        return Stream.concat(a.keySet().stream(), b.keySet().stream()).distinct().sorted().toList();
    }

    private int count(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.count();
        } catch (IOException e) {
            throw gone(e);
        }
    }

    private Map<String, Long> tally(Path dir, Function<Path, String> key) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.collect(Collectors.groupingBy(key, TreeMap::new, Collectors.counting()));
        } catch (IOException e) {
            throw gone(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(ended while listed)"; // a thread that ended between the listing and this read
        }
    }

    private RuntimeException gone(IOException e) {
        return e instanceof NoSuchFileException ? new ProcessGoneException(pid) : new UncheckedIOException(e);
    }

    /** The process ended (its {@code /proc} entry is gone). */
    static final class ProcessGoneException extends RuntimeException {
        ProcessGoneException(long pid) {
            super("process " + pid + " is gone");
        }
    }
}
