package io.vfu.it.blk;

import io.vfu.it.GuestProgram;
import io.vfu.it.GuestRun;
import io.vfu.it.Initramfs;
import io.vfu.it.Provisioned;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The virtio-blk guest: the provisioned Debian 6.12 kernel and initramfs (whose {@code /init} loads virtio_blk
 * and ext4) plus the vfu-blk program as {@code /test}, booted under TCG with 2 vCPUs and 512 MiB of guest RAM in
 * a shared memfd ({@code memory-backend-memfd,share=on}), so that QEMU hands our server an fd with each DMA map
 * and the device reaches guest memory by mmap. QEMU's own virtio-blk-pci gets the same machine.
 *
 * <p>The program's C sources ({@code integration-tests/src/main/guest-blk}) travel in this module's jar as
 * resources and are compiled with the host's {@code gcc -static} when a guest is built, so no binary is
 * committed and the bench, which has only the jar, builds the same program.
 */
public final class BlkGuest {
    /** The sources, in the jar under {@code io/vfu/it/blk/guest/}; gcc fails at link time if one is missing. */
    static final List<String> SOURCES = List.of("blk.h", "util.c", "pattern.c", "discard.c", "fs.c", "perf.c",
            "main.c");
    public static final int MEMORY_MIB = 512;
    public static final int CPUS = 2;

    private BlkGuest() {
    }

    /** Compiles the program into {@code dir} and writes the initramfs with it as {@code /test}; returns its path. */
    public static Path initramfs(Provisioned provisioned, Path dir) throws IOException, InterruptedException {
        requireVirtioBlk(provisioned);
        Path src = Files.createDirectories(dir.resolve("guest-blk-src"));
        for (String name : SOURCES) {
            try (InputStream in = BlkGuest.class.getResourceAsStream("guest/" + name)) {
                if (in == null) {
                    throw new IOException("guest source " + name + " is not on the class path (io/vfu/it/blk/guest)");
                }
                Files.copy(in, src.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path program = GuestProgram.compile(src, dir.resolve("vfu-blk"));
        return new Initramfs().file("/test", Files.readAllBytes(program), 0755)
                .writeTo(provisioned.guestInitramfs(), dir.resolve("initrd-blk.gz"));
    }

    /** The base initramfs loads the modules its {@code modules/order} lists; a guest built before recipe 2 has none. */
    static void requireVirtioBlk(Provisioned provisioned) throws IOException {
        Path order = provisioned.guestInitramfs().resolveSibling("modules").resolve("order");
        List<String> modules = Files.isReadable(order) ? Files.readAllLines(order) : List.of();
        if (!modules.contains("virtio_blk") || !modules.contains("ext4")) {
            throw new IllegalStateException("the provisioned guest (" + order + ") has no virtio_blk and ext4 "
                    + "modules: run scripts/provision.sh as root (scripts/build-guest.sh recipe 2 adds them)");
        }
    }

    /**
     * The QEMU command line: the guest with {@code kernelArgs} (the {@code vfublk.*} words of a
     * {@link BlkLayout} or {@link BlkPerfPlan}) and the disk served by {@code backend}.
     */
    public static List<String> command(Provisioned provisioned, Path initramfs, BlkBackend backend, BlkDisk disk,
                                       Path socket, List<String> kernelArgs) {
        List<String> qemu = new ArrayList<>(List.of("-object",
                "memory-backend-memfd,id=mem,size=" + MEMORY_MIB + "M,share=on", "-machine", "memory-backend=mem"));
        qemu.addAll(backend.qemuArgs(disk, socket));
        return new GuestRun(provisioned).memoryMib(MEMORY_MIB).cpus(CPUS)
                .kernelArgs(kernelArgs.toArray(String[]::new))
                .qemuArgs(qemu.toArray(String[]::new))
                .command(initramfs);
    }
}
