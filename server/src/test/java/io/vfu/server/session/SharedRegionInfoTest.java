package io.vfu.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfu.client.DmaHandler;
import io.vfu.device.DeviceContext;
import io.vfu.device.RegionIndex;
import io.vfu.device.RegionInfo;
import io.vfu.device.VfioDevice;
import io.vfu.device.pci.ConfigSpace;
import io.vfu.device.pci.MemoryAccess;
import io.vfu.device.pci.PciDevice;
import io.vfu.device.pci.PciInterrupts;
import io.vfu.device.pci.PciRegs;
import io.vfu.device.pci.RegionMap;
import io.vfu.protocol.DeviceGetRegionInfo;
import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageDecoder;
import io.vfu.protocol.Limits;
import io.vfu.protocol.RegionInfoCap;
import io.vfu.server.VfuServer;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.OwnedFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET_REGION_INFO of a region with mmap areas: MMAP, the sparse-mmap capability, and the memfd behind the region
 * (region offset n is fd offset n) with the full reply; an area the shared memory does not cover is EIO, never
 * offered (a client touching it would die of SIGBUS).
 */
class SharedRegionInfoTest {

    @TempDir
    Path dir;

    /** BAR0 of 8 KiB, page 1 mmap-able; shares {@code sharedBytes} of the region (0: none). */
    private static VfioDevice device(DeviceContext context, long sharedBytes) {
        PciInterrupts irqs = new PciInterrupts(1, 0x800, context.postedWrites(), (s, i) -> { });
        ConfigSpace config = ConfigSpace.builder().ids(0x1b5a, 0x00f1).build(null);
        MemorySegment shared = sharedBytes > 0 ? context.sharedMemory(0, sharedBytes) : MemorySegment.ofArray(new byte[0x2000]);
        RegionMap regions = new RegionMap(RegionIndex.COUNT).add(RegionIndex.CONFIG, PciRegs.SIZE, config)
                .add(0, 0x2000, new MemoryAccess(shared, 0)).mmap(0, new RegionInfo.Area(0x1000, 0x1000));
        return new PciDevice() {
            @Override
            protected RegionMap regions() {
                return regions;
            }

            @Override
            protected PciInterrupts irqs() {
                return irqs;
            }

            @Override
            public void reset() {
            }
        };
    }

    @Test
    void anMmapRegionComesWithItsCapabilityAndTheMemoryBehindIt() throws Exception {
        Path socket = dir.resolve("s.sock");
        try (VfuServer server = VfuServer.builder().device("s", socket, c -> device(c, 0x2000)).start();
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            // A short argsz first, as QEMU asks: the fixed part, CAPS with cap_offset 32, the size needed, no fd.
            try (Frame f = d.client.call(io.vfu.protocol.Command.DEVICE_GET_REGION_INFO,
                    TestDevice.payload(new DeviceGetRegionInfo.Request(32, 0)))) {
                assertEquals(0, f.fds().count(), "no fd with a truncated reply");
                ByteBuffer p = f.payload().order(java.nio.ByteOrder.LITTLE_ENDIAN);
                assertEquals(32 + 16 + 16, p.getInt(0), "argsz: the info, the sparse-mmap header, one area");
                assertEquals(32, p.getInt(12), "cap_offset");
            }
            try (Frame f = d.client.call(io.vfu.protocol.Command.DEVICE_GET_REGION_INFO,
                    TestDevice.payload(new DeviceGetRegionInfo.Request(64, 0)))) {
                DeviceGetRegionInfo.Reply r = (DeviceGetRegionInfo.Reply) MessageDecoder.decode(f.header(),
                        f.payload(), f.fds().count(), Limits.of(1 << 20, 16));
                assertEquals(DeviceGetRegionInfo.FLAG_READ | DeviceGetRegionInfo.FLAG_WRITE
                        | DeviceGetRegionInfo.FLAG_MMAP | DeviceGetRegionInfo.FLAG_CAPS, r.flags());
                assertEquals(List.of(new RegionInfoCap.SparseMmap(List.of(new RegionInfoCap.Area(0x1000, 0x1000)))),
                        r.caps());
                assertEquals(1, f.fds().count(), "the region's memfd");
                try (OwnedFd fd = f.fds().take(0); Mmap client = Mmap.map(fd, 0x1000, 0x1000, true)) {
                    client.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0x5eed);
                    assertEquals(0x5eed, d.read(0, 0x1000, 4), "the client's mapping is the device's memory");
                    // A client cannot cut the memory under the device (its next access would be a bus error).
                    assertThrows(io.vfu.transport.nativeio.NativeCallException.class,
                            () -> io.vfu.transport.nativeio.MemFd.truncate(fd, 0), "the memfd is sealed");
                    assertEquals(0x5eed, d.read(0, 0x1000, 4), "the device still reads it");
                }
            }
        }
    }

    @Test
    void anAreaBeyondTheSharedMemoryIsEio() throws Exception {
        Path socket = dir.resolve("t.sock");
        try (VfuServer server = VfuServer.builder().device("t", socket, c -> device(c, 0x1000)).start();
             TestDevice d = TestDevice.open(socket, DmaHandler.refuseAll())) {
            assertEquals(Errno.EIO.code(), assertThrows(ErrorReplyException.class,
                    () -> d.call(new DeviceGetRegionInfo.Request(64, 0))).errno());
        }
    }
}
