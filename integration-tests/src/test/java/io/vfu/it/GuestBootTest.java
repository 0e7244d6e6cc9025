package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provisioned guest boots under TCG, loads the vfio modules, runs a test's /test and powers off. */
class GuestBootTest {
    private final Provisioned provisioned = Provisioned.load();

    @TempDir
    Path dir;

    @Test
    void runsTheTestProgramAddedToTheInitramfs() throws Exception {
        Path initrd = new Initramfs()
                .test("#!/bin/sh\necho \"from-test $(uname -r) $(ls /sys/bus/pci/devices | wc -l)\"\nexit 7\n")
                .writeTo(provisioned.guestInitramfs(), dir.resolve("initrd.gz"));
        ProcessResult r = new GuestRun(provisioned).boot(initrd, Duration.ofMinutes(3));
        String out = r.stdout();
        assertEquals(0, r.exitCode(), () -> "QEMU failed:\n" + r.stderr() + out);
        assertTrue(out.contains("vfu-guest: up, kernel " + provisioned.guestKernelRelease()), out);
        assertTrue(out.matches("(?s).*vfu-guest: modules .*\\bvfio_pci\\b.*"), out);
        assertTrue(out.contains("from-test " + provisioned.guestKernelRelease() + " "), out);
        assertTrue(out.contains("vfu-guest: test exit 7"), out);
        assertTrue(out.contains("vfu-guest: done"), out);
    }
}
