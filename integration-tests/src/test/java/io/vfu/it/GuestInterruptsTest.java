package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.server.VfuServer;
import io.vfu.server.config.ServerConfig;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5 on the direct path: a Debian guest booted by the provisioned QEMU 11 (its own loader, no container)
 * drives our server's device through guest vfio-pci from user space: dynamic MSI-X append to 44 vectors,
 * 10^5 interrupts of churn while appending, IMS with a mask/rewrite/unmask re-read, vector budget exhaustion,
 * the DMA engine over the shared memfd backend (mmap DMA), and last a Function Level Reset through
 * VFIO_DEVICE_RESET after which every vector still delivers. The container path is
 * {@link GuestContainersTest}; it boots without the memfd backend, so DMA goes by message there.
 */
class GuestInterruptsTest {
    static final Duration BOOT_LIMIT = Duration.ofMinutes(4);

    @TempDir
    static Path dir;
    static Path initrd;
    private final Provisioned provisioned = Provisioned.load();

    @BeforeAll
    static void buildGuestImage() throws Exception {
        Provisioned p = Provisioned.load();
        initrd = guestInitrd(p, dir);
    }

    /** The provisioned initramfs plus the test program, compiled from src/main/guest-vfu now. */
    static Path guestInitrd(Provisioned p, Path into) throws Exception {
        Path program = GuestProgram.compile(Path.of("src/main/guest-vfu").toAbsolutePath(), into.resolve("vfu-guest-test"));
        return new Initramfs().file("/test", Files.readAllBytes(program), 0755)
                .writeTo(p.guestInitramfs(), into.resolve("initrd.gz"));
    }

    @AfterAll
    static void report() {
        System.out.println("guest suite: " + GuestSuiteReport.summary());
    }

    /** Without the device the guest still ends with a result line, and every check in it has failed. */
    @Test
    void withoutTheDeviceTheResultLineReportsFailure() throws Exception {
        ProcessResult run = new GuestRun(provisioned).kernelArgs("vfu.dma=mmap").boot(initrd, BOOT_LIMIT);
        assertEquals(0, run.exitCode(), run.stderr());
        GuestResult r = GuestResult.parse(List.of(run.stdout().split("\r?\n")));
        assertEquals(0, r.count("vectors_appended"), r.line());
        assertEquals(0, r.count("fired"), r.line());
        assertTrue(!r.flag("ims_reread_ok") && !r.flag("budget_error_seen") && !r.flag("dma_mmap_ok"), r.line());
        assertTrue(r.result().get("dma_msg_ok").isNull(), r.line());
        assertTrue(r.result().get("reset_method").isNull(), r.line());
        assertTrue(!r.flag("reset_ok") && !r.flag("irq_after_reset"), r.line());
        assertEquals("device 1b5a:0001 not found on the PCI bus", r.detail().path("error").asText());
        assertTrue(run.stdout().contains("vfu-guest: test exit 1"), run.stdout());
    }

    @Test
    void guestDrivesTheDeviceWithSharedMemory() throws Exception {
        long t0 = System.nanoTime();
        Path socket = dir.resolve("dev0.sock");
        Path config = GuestScenario.writeConfig(dir, socket);
        try (VfuServer server = VfuServer.start(ServerConfig.load(config), Optional.empty(), "127.0.0.1")) {
            List<String> cmd = new ArrayList<>(new GuestRun(provisioned).memoryMib(512)
                    .kernelArgs(GuestScenario.kernelArgs(true).toArray(String[]::new))
                    .qemuArgs(GuestScenario.qemuArgs(socket, true, 512).toArray(String[]::new))
                    .command(initrd));
            Process qemu = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            OutputLog console = OutputLog.start(qemu.getInputStream(), "guest-console");
            OutputLog stderr = OutputLog.start(qemu.getErrorStream(), "qemu-stderr");
            try {
                // The guest holds the device for a moment after this line, so the metrics show the run itself.
                boolean printed = console.await(Pattern.compile(GuestResult.RESULT), 0, BOOT_LIMIT).isPresent();
                String metrics = server.registry().scrape();
                assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not exit:\n" + console.tail(40));
                console.join(Duration.ofSeconds(5));
                String out = String.join("\n", console.lines());
                assertTrue(printed, "no result line:\n" + out + "\n" + stderr.tail(30));
                assertEquals(0, qemu.exitValue(), () -> "QEMU failed:\n" + stderr.tail(30));
                GuestResult r = GuestResult.parse(console.lines());
                System.out.println("direct QEMU, memfd (mmap DMA): " + r.line());
                GuestScenario.assertGuest(r, true, out);
                GuestScenario.assertMetrics(metrics, true);
                assertTrue(out.contains("vfu-guest: test exit 0"), out);
                GuestSuiteReport.record("direct", r, System.nanoTime() - t0);
            } finally {
                qemu.destroyForcibly();
            }
        }
    }
}
