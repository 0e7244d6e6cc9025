package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The qtest driver against QEMU's own PCI test devices: {@code edu} (vendor 0x1234, device 0x11e8, one 1 MiB
 * MMIO BAR whose register 0 reads 0x010000ed and register 4 returns the complement of what was written) and
 * {@code pci-testdev} (32-bit MMIO, I/O and optional 64-bit prefetchable BARs).
 */
class QtestSessionTest {
    private static final int EDU_VENDOR = 0x1234;
    private static final int EDU_DEVICE = 0x11e8;

    private final Provisioned provisioned = Provisioned.load();

    private QemuArgs args() {
        return QemuArgs.qtest(provisioned);
    }

    @Test
    void readsTheQ35HostBridgeThroughConfigPorts() {
        try (QtestSession q = QtestSession.start(args())) {
            PciConfig cfg = new PciConfig(q);
            PciAddress host = new PciAddress(0, 0, 0);
            assertEquals(0x29c0_8086L, cfg.read32(host, PciConfig.VENDOR_ID));
            assertEquals(0x8086, cfg.read16(host, PciConfig.VENDOR_ID));
            assertEquals(0x29c0, cfg.read16(host, PciConfig.DEVICE_ID));
            assertEquals(0x29, cfg.read8(host, 3));
        }
    }

    @Test
    void aDeviceWithoutAddrTakesTheFirstFreeSlot() {
        try (QtestSession q = QtestSession.start(args().device("edu"))) {
            assertEquals(new PciAddress(0, 1, 0), new PciConfig(q).find(EDU_VENDOR, EDU_DEVICE).orElseThrow());
        }
    }

    @Test
    void aDeviceWithAddrIsFoundThere() {
        try (QtestSession q = QtestSession.start(args().device("edu,addr=0x6"))) {
            assertEquals(new PciAddress(0, 6, 0), new PciConfig(q).find(EDU_VENDOR, EDU_DEVICE).orElseThrow());
        }
    }

    @Test
    void barsAreUnassignedUntilTheTestAssignsThem() {
        try (QtestSession q = QtestSession.start(args().device("edu"))) {
            PciConfig cfg = new PciConfig(q);
            PciAddress edu = cfg.find(EDU_VENDOR, EDU_DEVICE).orElseThrow();
            assertEquals(0, cfg.read32(edu, PciConfig.BAR0));
            assertEquals(0, cfg.read16(edu, PciConfig.COMMAND) & PciConfig.COMMAND_MEMORY);
            List<PciBars.Bar> bars = new PciBars(cfg).assign(edu);
            PciBars.Bar bar0 = PciBars.byIndex(bars, 0).orElseThrow();
            assertEquals(1 << 20, bar0.size());
            assertEquals(PciBars.MMIO_BASE, bar0.address());
            assertEquals(0x010000edL, q.readl(bar0.address()), "edu identification register");
            q.writel(bar0.address() + 4, 0x1234_5678L);
            assertEquals(~0x1234_5678L & 0xffff_ffffL, q.readl(bar0.address() + 4), "edu liveness register");
            int command = cfg.read16(edu, PciConfig.COMMAND);
            assertEquals(PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER,
                    command & (PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER | PciConfig.COMMAND_IO));
        }
    }

    @Test
    void sizesAndAssignsIoMemory32AndMemory64Bars() {
        try (QtestSession q = QtestSession.start(args().device("pci-testdev,membar=16M"))) {
            PciConfig cfg = new PciConfig(q);
            PciAddress dev = cfg.find(0x1b36, 0x0005).orElseThrow();
            List<PciBars.Bar> bars = new PciBars(cfg).assign(dev);
            PciBars.Bar mem64 = bars.stream().filter(b -> b.kind() == PciBars.Kind.MEMORY64).findFirst().orElseThrow();
            assertEquals(16L << 20, mem64.size());
            assertTrue(mem64.prefetchable());
            assertTrue(bars.stream().anyMatch(b -> b.kind() == PciBars.Kind.IO), bars.toString());
            assertTrue(bars.stream().anyMatch(b -> b.kind() == PciBars.Kind.MEMORY32), bars.toString());
            for (PciBars.Bar b : bars) {
                assertEquals(0, b.address() % b.size(), "aligned to size: " + b);
                long reg = cfg.read32(dev, PciConfig.BAR0 + 4 * b.index());
                long flags = b.kind() == PciBars.Kind.IO ? 3 : 0xf;
                assertEquals(b.address() & 0xffff_ffffL, reg & ~flags, "BAR register holds the address: " + b);
                if (b.kind() == PciBars.Kind.MEMORY64) {
                    assertEquals(b.address() >>> 32, cfg.read32(dev, PciConfig.BAR0 + 4 * b.index() + 4));
                }
            }
            assertEquals(PciConfig.COMMAND_IO | PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER,
                    cfg.read16(dev, PciConfig.COMMAND) & 7);
        }
    }

    @Test
    void guestMemoryReadsBackInAddressOrderAndLittleEndian() {
        try (QtestSession q = QtestSession.start(args())) {
            q.writeBytes(0x10_0000, new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef});
            assertArrayEquals(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef},
                    q.readBytes(0x10_0000, 4));
            assertEquals(0xefbe_addeL, q.readl(0x10_0000));
            q.write(0x10_0008, 8, 0x8877_6655_4433_2211L);
            assertEquals(0x8877_6655_4433_2211L, q.read(0x10_0008, 8));
            assertEquals(0x11, q.read(0x10_0008, 1));
        }
    }

    @Test
    void sharedMemfdGuestRamIsReadAndWritten() {
        try (QtestSession q = QtestSession.start(args().sharedMemory().memoryMib(512))) {
            long top = (512L << 20) - 8;
            q.write(top, 8, 0x0123_4567_89ab_cdefL);
            assertEquals(0x0123_4567_89ab_cdefL, q.read(top, 8));
        }
    }

    @Test
    void clockStepAdvancesVirtualTime() {
        try (QtestSession q = QtestSession.start(args())) {
            long t0 = q.clockStep(1_000);
            assertEquals(t0 + 1_000_000, q.clockStep(1_000_000));
            assertTrue(q.clockStep() > t0 + 1_000_000, "stepping to the next timer deadline moves time on");
        }
    }

    @Test
    void aRejectedCommandThrowsWithQemusReason() {
        try (QtestSession q = QtestSession.start(args())) {
            QtestException e = assertThrows(QtestException.class, () -> q.command("no_such_command 1"));
            assertTrue(e.getMessage().contains("FAIL Unknown command 'no_such_command'"), e.getMessage());
            assertEquals(0x29c0_8086L, new PciConfig(q).read32(new PciAddress(0, 0, 0), 0), "still usable");
        }
    }

    @Test
    void traceEventsCanBeAwaited() {
        try (QtestSession q = QtestSession.start(args().device("edu").trace("pci_cfg_read"))) {
            PciConfig cfg = new PciConfig(q);
            int mark = q.stderr().size();
            cfg.read16(new PciAddress(0, 1, 0), PciConfig.DEVICE_ID);
            String line = q.awaitStderr(Pattern.compile("pci_cfg_read edu 00:01\\.0 @0x2 "), mark, Duration.ofSeconds(10));
            assertTrue(line.endsWith("-> 0x11e8"), line);
        }
    }

    @Test
    void closeStopsQemu() {
        QtestSession q = QtestSession.start(args());
        assertTrue(q.isAlive());
        assertEquals(0, q.stop(Duration.ofSeconds(10)), "QEMU exits 0 on SIGTERM");
        assertFalse(q.isAlive());
        assertThrows(QtestException.class, () -> q.command("clock_step 1"));
    }

    @Test
    void aResetWithNoRebootEndsQemu() throws Exception {
        QtestSession q = QtestSession.start(args().noReboot());
        try {
            q.outb(0xcf9, 0x6);
            assertTrue(ProcessHandle.of(q.pid()).map(h -> h.onExit()).orElseThrow()
                    .get(10, java.util.concurrent.TimeUnit.SECONDS) != null);
            assertFalse(q.isAlive());
        } finally {
            q.close();
        }
    }
}
