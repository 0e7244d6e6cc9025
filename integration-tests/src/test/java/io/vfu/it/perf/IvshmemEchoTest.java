package io.vfu.it.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.vfu.it.PciAddress;
import io.vfu.it.PciBars;
import io.vfu.it.PciConfig;
import io.vfu.it.Provisioned;
import io.vfu.it.QemuArgs;
import io.vfu.it.QtestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floor's host echo against the provisioned QEMU's real {@code ivshmem-doorbell} under qtest (no guest): QEMU
 * accepts it as its ivshmem server (realize reads the version, ID and shared-memory messages synchronously, so a
 * wrong one fails QEMU's start), the device reports the ID the echo gave it, every doorbell to peer 1 reaches the
 * echo, and the echo ends by itself, exit 0, when QEMU goes.
 */
class IvshmemEchoTest {
    private static final int IVSHMEM_VENDOR = 0x1af4;
    private static final int IVSHMEM_DEVICE = 0x1110;
    private static final int IVPOSITION = 0x08;
    private static final int DOORBELL = 0x0c;

    @Test
    void echoesEveryDoorbellToPeerOneAndEndsWhenQemuGoes(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("floor.sock");
        try (IvshmemEcho echo = IvshmemEcho.start(IvshmemEcho.build(dir), socket, PerfGuest.FLOOR_VECTORS)) {
            QemuArgs args = QemuArgs.qtest(Provisioned.load()).arg("-chardev", "socket,id=floor,path=" + socket)
                    .device("ivshmem-doorbell,chardev=floor,vectors=" + PerfGuest.FLOOR_VECTORS);
            try (QtestSession q = QtestSession.start(args)) {
                PciConfig cfg = new PciConfig(q);
                PciAddress dev = cfg.find(IVSHMEM_VENDOR, IVSHMEM_DEVICE).orElseThrow();
                long bar0 = PciBars.byIndex(new PciBars(cfg).assign(dev), 0).orElseThrow().address();
                assertEquals(0, q.readl(bar0 + IVPOSITION), "the ID the echo assigns the device");
                assertFalse(Files.exists(socket), "the echo serves one client and removes its socket once it came");
                for (int i = 0; i < 5; i++) {
                    q.writel(bar0 + DOORBELL, 1 << 16);
                }
                // A doorbell to a peer that is not connected (2) is dropped by QEMU, never passed to the echo.
                q.writel(bar0 + DOORBELL, 2 << 16);
                // One more qtest round trip, so QEMU's writes to the echo's eventfd are done before it stops.
                q.readl(bar0 + IVPOSITION);
            }
            assertEquals(5, echo.stop());
        }
    }

    @Test
    void endsCleanlyOnSigtermBeforeAnyClient(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("floor.sock");
        IvshmemEcho echo = IvshmemEcho.start(IvshmemEcho.build(dir), socket, 1);
        assertEquals(0, echo.stop());
        assertFalse(Files.exists(socket), "the socket goes with the echo");
    }
}
