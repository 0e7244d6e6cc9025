package io.vfu.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots the provisioned Debian kernel with an initramfs under TCG (no KVM here) and collects its serial console
 * until it powers off. Flags: {@code -display none -serial stdio -monitor none -no-reboot}, since
 * {@code -nographic -serial stdio} claims stdio twice; the kernel gets {@code console=ttyS0 panic=-1}, so a panic
 * also ends QEMU.
 */
public final class GuestRun {
    private final Provisioned provisioned;
    private final List<String> extra = new ArrayList<>();
    private final List<String> append = new ArrayList<>(List.of("console=ttyS0", "panic=-1", "quiet"));
    private int memoryMib = 256;
    private int cpus = 1;

    public GuestRun(Provisioned provisioned) {
        this.provisioned = provisioned;
    }

    /** Adds kernel command-line words, e.g. {@code intel_iommu=on}. */
    public GuestRun kernelArgs(String... words) {
        append.addAll(List.of(words));
        return this;
    }

    /** Appends raw QEMU arguments, e.g. {@code -device} with a vfio-user-pci JSON. */
    public GuestRun qemuArgs(String... args) {
        extra.addAll(List.of(args));
        return this;
    }

    public GuestRun memoryMib(int mib) {
        this.memoryMib = mib;
        return this;
    }

    /** Guest vCPUs ({@code -smp}); 1 unless set. */
    public GuestRun cpus(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("a guest needs at least one vCPU, got " + n);
        }
        this.cpus = n;
        return this;
    }

    /** The command line for booting {@code initramfs}. */
    public List<String> command(Path initramfs) {
        List<String> cmd = new ArrayList<>(List.of(provisioned.qemuBinary().toString(),
                "-machine", "q35", "-accel", "tcg", "-m", Integer.toString(memoryMib), "-smp", Integer.toString(cpus),
                "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                "-kernel", provisioned.guestKernel().toString(), "-initrd", initramfs.toString(),
                "-append", String.join(" ", append)));
        cmd.addAll(extra);
        return List.copyOf(cmd);
    }

    /** Boots and waits for QEMU to exit (the guest powers off), killing it after {@code timeout}. */
    public ProcessResult boot(Path initramfs, Duration timeout) throws IOException, InterruptedException {
        return ProcessResult.run(command(initramfs), timeout);
    }
}
