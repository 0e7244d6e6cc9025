package io.vfu.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the command line of a QEMU 11 q35 machine driven by qtest: no guest code runs, the test reads and
 * writes ports and memory itself. The defaults are
 * {@code -machine q35 -accel qtest -qtest stdio -qtest-log none -display none -nodefaults -monitor none}.
 *
 * <p>QEMU's firmware does not run under qtest, so nothing enumerates PCI: see {@link PciBars} for assigning
 * BAR addresses.
 */
public final class QemuArgs {
    private final Path binary;
    private final List<String> extra = new ArrayList<>();
    private final List<String> devices = new ArrayList<>();
    private int memoryMib = 128;
    private boolean sharedMemory;
    private String qtestLog = "none";

    private QemuArgs(Path binary) {
        this.binary = binary;
    }

    /** A qtest q35 machine run by the provisioned QEMU. */
    public static QemuArgs qtest(Provisioned provisioned) {
        return new QemuArgs(provisioned.qemuBinary());
    }

    /** Guest RAM size in MiB ({@code -m}); 128 unless set. */
    public QemuArgs memoryMib(int mib) {
        if (mib < 1) {
            throw new IllegalArgumentException("memory must be at least 1 MiB, got " + mib);
        }
        this.memoryMib = mib;
        return this;
    }

    /**
     * Backs guest RAM with a shared memfd ({@code memory-backend-memfd,share=on}), so QEMU passes an fd with
     * each RAM DMA_MAP and the server can mmap guest memory. Without it, maps carry no fd.
     */
    public QemuArgs sharedMemory() {
        this.sharedMemory = true;
        return this;
    }

    /**
     * Adds a {@code vfio-user-pci} device connected to a server listening on {@code socket}. QEMU accepts the
     * socket only in JSON form; {@code properties} are further device properties such as {@code addr} ("0x4"),
     * {@code id} or {@code x-msg-timeout} (Integer).
     */
    public QemuArgs vfioUserDevice(Path socket, Map<String, Object> properties) {
        if (!socket.isAbsolute()) {
            throw new IllegalArgumentException("socket path must be absolute, got " + socket);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("driver", "vfio-user-pci");
        json.put("socket", Map.of("type", "unix", "path", socket.toString()));
        json.putAll(properties);
        devices.add(Json.write(json));
        return this;
    }

    /** Adds a {@code vfio-user-pci} device with no further properties. */
    public QemuArgs vfioUserDevice(Path socket) {
        return vfioUserDevice(socket, Map.of());
    }

    /** Adds any other device, e.g. {@code "edu,addr=0x5"}. */
    public QemuArgs device(String device) {
        devices.add(device);
        return this;
    }

    /** Enables trace events matching {@code pattern} ({@code -trace}); they go to stderr unless {@link #logFile}. */
    public QemuArgs trace(String pattern) {
        return arg("-trace", pattern);
    }

    /** Sends QEMU's log and trace output to a file ({@code -D}). */
    public QemuArgs logFile(Path file) {
        return arg("-D", file.toString());
    }

    /** Logs every qtest command and reply with timestamps to a file (default: no log). */
    public QemuArgs qtestLog(Path file) {
        this.qtestLog = file.toString();
        return this;
    }

    /** Makes a machine reset (e.g. {@code outb 0xcf9 0x6}) end QEMU with exit code 0 instead of resetting. */
    public QemuArgs noReboot() {
        return arg("-no-reboot");
    }

    /** Appends raw arguments. */
    public QemuArgs arg(String... args) {
        extra.addAll(List.of(args));
        return this;
    }

    /** The full command line, executable first. */
    public List<String> build() {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        if (sharedMemory) {
            cmd.addAll(List.of("-object",
                    "memory-backend-memfd,id=mem,size=" + memoryMib + "M,share=on",
                    "-machine", "q35,memory-backend=mem"));
        } else {
            cmd.addAll(List.of("-machine", "q35"));
        }
        cmd.addAll(List.of("-m", Integer.toString(memoryMib),
                "-accel", "qtest", "-qtest", "stdio", "-qtest-log", qtestLog,
                "-display", "none", "-nodefaults", "-monitor", "none"));
        for (String d : devices) {
            cmd.addAll(List.of("-device", d));
        }
        cmd.addAll(extra);
        return List.copyOf(cmd);
    }
}
