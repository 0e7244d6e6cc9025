package io.vfu.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Builds a guest initramfs: the provisioned base (busybox, vfio modules, an {@code /init} that runs
 * {@code /test} if present and powers off) followed by a second archive with the test's own files. The kernel
 * unpacks concatenated archives in order, so later files are added to (or replace) earlier ones.
 *
 * <p>The second archive is written in the cpio "newc" format (magic {@code 070701}): per file a 110-byte ASCII
 * header of thirteen 8-digit hex fields, the NUL-terminated name, padding to 4 bytes, the data, padding to 4;
 * it ends with an entry named {@code TRAILER!!!}.
 */
public final class Initramfs {
    private final Map<String, Entry> files = new TreeMap<>();

    private record Entry(byte[] data, int mode) {
    }

    /** Adds a file (parent folders must exist in the base: /bin, /lib, /tmp, /dev, /proc, /sys). */
    public Initramfs file(String path, byte[] data, int permissions) {
        String name = path.startsWith("/") ? path.substring(1) : path;
        if (name.isEmpty() || name.contains("..")) {
            throw new IllegalArgumentException("bad initramfs path " + path);
        }
        files.put(name, new Entry(data.clone(), 0100000 | (permissions & 07777)));
        return this;
    }

    /** Adds the program the base {@code /init} runs; for a shell script start it with {@code #!/bin/sh}. */
    public Initramfs test(String script) {
        return file("/test", script.getBytes(StandardCharsets.UTF_8), 0755);
    }

    /** Writes the base archive followed by these files to {@code target}. */
    public Path writeTo(Path base, Path target) throws IOException {
        try (OutputStream out = Files.newOutputStream(target)) {
            Files.copy(base, out);
            out.write(overlay());
        }
        return target;
    }

    /** The gzip'd newc archive of the added files alone. */
    public byte[] overlay() throws IOException {
        ByteArrayOutputStream cpio = new ByteArrayOutputStream();
        int ino = 1;
        for (Map.Entry<String, Entry> e : files.entrySet()) {
            entry(cpio, ino++, e.getKey(), e.getValue().mode(), e.getValue().data());
        }
        entry(cpio, 0, "TRAILER!!!", 0, new byte[0]);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            cpio.writeTo(z);
        }
        return gz.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        // Fields: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check.
        long[] fields = {ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0};
        StringBuilder h = new StringBuilder("070701");
        for (long f : fields) {
            h.append(String.format("%08x", f));
        }
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        pad(out);
        out.writeBytes(data);
        pad(out);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
