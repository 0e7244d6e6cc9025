package io.vfu.it.perf;

import io.vfu.it.GuestProgram;
import io.vfu.it.GuestRun;
import io.vfu.it.Initramfs;
import io.vfu.it.Provisioned;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The guest bench (issue 15): the provisioned Debian 6.12 guest with the vfu-guestbench program as {@code /test},
 * booted under TCG with one vCPU and 512 MiB of guest RAM in a shared memfd, so our server reaches guest memory by
 * mmap. The devices sit on the same machine behind {@code intel-iommu} (Debian kernels have no VFIO no-IOMMU):
 * our default device through {@code vfio-user-pci}, QEMU's in-process {@code edu} and, in perf mode, the floor:
 * QEMU's {@code ivshmem-doorbell} whose only peer is {@link IvshmemEcho}, a host process that answers each
 * doorbell with an interrupt (an out-of-process interrupt path with no device protocol). The program binds them
 * to the guest's vfio-pci and measures them the same way ({@link PerfPlan}), or soaks ours ({@link SoakPlan}).
 *
 * <p>The program's C sources travel in this module's jar as resources: its own ({@code src/main/guest-bench},
 * under {@code io/vfu/it/perf/guest-bench/}) and the guest suite's VFIO plumbing ({@code src/main/guest-vfu}:
 * {@code vfu_guest.h}, {@code vfio_dev.c}, {@code log.c}). They are compiled together with the host's
 * {@code gcc -static} when a guest is built, so the bench, which has only the jar, builds the same program as a
 * test.
 */
public final class PerfGuest {
    /** The program's own sources; gcc fails at link time if one is missing. */
    static final List<String> SOURCES = List.of("bench.h", "main.c", "stats.c", "measure.c", "vfu_target.c",
            "edu_target.c", "ivshmem_target.c", "soak.c");
    /** What it takes from the guest suite: the device's registers and the VFIO plumbing. */
    static final List<String> SHARED = List.of("vfu_guest.h", "vfio_dev.c", "log.c");
    public static final int MEMORY_MIB = 512;
    /** MSI-X vectors of our device in the bench: room for the soak's widest round. */
    public static final int MSIX_VECTORS = 128;
    public static final int IMS_ENTRIES = 64;
    /** The floor device's MSI-X vectors, as {@code vectors=} tells QEMU and the echo; the guest uses vector 0. */
    public static final int FLOOR_VECTORS = 1;

    private PerfGuest() {
    }

    /** Compiles the program into {@code dir} and writes the initramfs with it as {@code /test}; returns its path. */
    public static Path initramfs(Provisioned provisioned, Path dir) throws IOException, InterruptedException {
        Path src = Files.createDirectories(dir.resolve("guest-bench-src"));
        for (String name : SOURCES) {
            copy("guest-bench/" + name, src.resolve(name));
        }
        for (String name : SHARED) {
            copy("guest-vfu/" + name, src.resolve(name));
        }
        Path program = GuestProgram.compile(src, dir.resolve("vfu-guestbench"));
        return new Initramfs().file("/test", Files.readAllBytes(program), 0755)
                .writeTo(provisioned.guestInitramfs(), dir.resolve("initrd-bench.gz"));
    }

    private static void copy(String resource, Path to) throws IOException {
        try (InputStream in = PerfGuest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("guest source " + resource + " is not on the class path (io/vfu/it/perf)");
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The vfu-server {@code --config} JSON: our default device {@code name} on {@code socket}; with {@code publish},
     * publishing the registers a guest polls in mapped memory (so the bench can time a mapped read; QEMU then sends
     * the device's region writes synchronously, which the write figure shows).
     */
    public static String serverConfig(String name, Path socket, boolean publish) {
        return """
                {"devices": [{"name": "%s", "socket": "%s", "msixVectors": %d, "imsEntries": %d,
                              "publishRegisters": %b}]}
                """.formatted(name, socket, MSIX_VECTORS, IMS_ENTRIES, publish);
    }

    /**
     * The QEMU command line: the guest with {@code kernelArgs} (from {@link PerfPlan} or {@link SoakPlan}), a
     * vIOMMU ({@code caching-mode=on} so QEMU sees every map), our device on {@code socket} (JSON form, the only
     * one QEMU 11 takes) and {@code edu}; no floor device (the soak's).
     */
    public static List<String> command(Provisioned provisioned, Path initramfs, Path socket, List<String> kernelArgs) {
        return guest(provisioned, socket, kernelArgs).command(initramfs);
    }

    /**
     * The perf mode's command line: {@link #command} plus the floor, {@code ivshmem-doorbell} with
     * {@link #FLOOR_VECTORS} vectors whose server is the {@link IvshmemEcho} listening on {@code floorSocket}
     * (QEMU connects as its client when it starts, so the echo must already listen; a comma in the path is
     * doubled, QEMU's escape for it).
     */
    public static List<String> command(Provisioned provisioned, Path initramfs, Path socket, Path floorSocket,
                                       List<String> kernelArgs) {
        return guest(provisioned, socket, kernelArgs)
                .qemuArgs("-chardev", "socket,id=floor,path=" + floorSocket.toString().replace(",", ",,"),
                        "-device", "ivshmem-doorbell,chardev=floor,vectors=" + FLOOR_VECTORS)
                .command(initramfs);
    }

    private static GuestRun guest(Provisioned provisioned, Path socket, List<String> kernelArgs) {
        String vfu = "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"" + socket + "\",\"type\":\"unix\"}}";
        return new GuestRun(provisioned).memoryMib(MEMORY_MIB)
                // no_timer_check: under TCG on a loaded host the kernel's boot-time check of the timer interrupt
                // can miss its window, and with interrupt remapping that is a panic (seen here at load 6).
                .kernelArgs("intel_iommu=on", "no_timer_check")
                .kernelArgs(kernelArgs.toArray(String[]::new))
                .qemuArgs("-object", "memory-backend-memfd,id=mem,size=" + MEMORY_MIB + "M,share=on",
                        "-machine", "memory-backend=mem", "-device", "intel-iommu,caching-mode=on",
                        "-device", vfu, "-device", "edu");
    }
}
