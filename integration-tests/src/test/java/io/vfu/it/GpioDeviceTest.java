package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.config.ServerConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample device ({@code device-gpio}, written only against the device API) served from its config
 * {@code "type": "gpio"}, found by ServiceLoader on the class path, attached to QEMU 11 and driven through its
 * BARs: identity, looped-back pins, and a rising edge delivered as an MSI to the APIC.
 */
class GpioDeviceTest {

    /** Its MSI-X capability is the first and only one, at 0x40; Message Control at +2. */
    private static final int MSIX_CONTROL = 0x42;

    @TempDir
    Path dir;

    @Test
    void qemuAttachesTheGpioDeviceAndAnEdgeRaisesItsMsi() {
        ServerConfig config = ServerConfig.parse("test", """
                {"devices": [{"name": "gpio0", "socket": "%s", "type": "gpio"}]}""".formatted(dir.resolve("gpio.sock")));
        try (VfuRig rig = VfuRig.server(config)) {
            rig.attach(a -> a);
            assertEquals(0x0010_1b5aL, rig.cfg.read32(VfuRig.SLOT, 0), "vendor 0x1b5a, device 0x0010");
            assertEquals(0x4F495047L, rig.qemu.readl(rig.bar0), "ID reads \"GPIO\"");
            rig.qemu.writel(rig.bar0 + 0x04, 0x1234_5670L);
            assertEquals(0x1234_5670L, rig.qemu.readl(rig.bar0 + 0x08), "IN follows OUT");

            int control = rig.cfg.read16(VfuRig.SLOT, MSIX_CONTROL);
            rig.cfg.write16(VfuRig.SLOT, MSIX_CONTROL, (control | 0x8000) & ~0x4000);
            rig.programMsix(0, 0x61);
            rig.qemu.writel(rig.bar0 + 0x0C, 1); // IRQ_ENABLE: pin 0
            int mark = rig.mark();
            rig.qemu.writel(rig.bar0 + 0x04, 0x1234_5671L); // pin 0 rises
            assertEquals(0x61, rig.awaitVector(mark), "the edge reached the APIC as vector 0's MSI");
            assertEquals(1L, rig.qemu.readl(rig.bar0 + 0x10), "IRQ_STATUS holds the edge");
        }
    }
}
