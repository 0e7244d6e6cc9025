package io.vfu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.memmove.MemmoveImsDevice;
import io.vfu.protocol.Command;
import io.vfu.protocol.Errno;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.transport.Frame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A program embeds the server with device instances of its own, without the CLI or a config file. */
class EmbeddedServerTest {

    @TempDir
    Path dir;

    @Test
    void aProgramServesItsOwnDeviceInstancesWithItsOwnRegistry() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        try (VfuServer server = VfuServer.builder()
                .device("a", a, context -> new MemmoveImsDevice(DeviceConfig.of(0x1234, 0x0a0a, 8, 8, 8), context))
                .device("b", b, context -> new MemmoveImsDevice(DeviceConfig.of(0x1234, 0x0b0b, 8, 8, 8), context))
                .registry(registry)
                .start()) {
            assertEquals(0x0a0a_1234L, vendorAndDevice(a));
            assertEquals(0x0b0b_1234L, vendorAndDevice(b));
            assertTrue(registry.scrape().contains("vfu_sessions_opened_total{device=\"a\"} 1.0"),
                    "the program's own registry holds the server's meters");
        }
    }

    @Test
    void aBuilderRefusesWhatCouldNeverServe() {
        assertThrows(IllegalStateException.class, () -> VfuServer.builder().start(), "no device");
        assertThrows(IllegalArgumentException.class, () -> VfuServer.builder()
                .device("x", dir.resolve("1.sock"), c -> null).device("x", dir.resolve("2.sock"), c -> null),
                "two devices named alike");
    }

    @Test
    void theDeviceHearsOfEveryDmaWindowTheClientGrantsAndTakesBack() throws Exception {
        java.util.List<String> heard = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        Path socket = dir.resolve("d.sock");
        try (VfuServer server = VfuServer.builder().device("d", socket, context -> {
            io.vfu.device.VfioDevice inner = new MemmoveImsDevice(DeviceConfig.of(0x1234, 1, 8, 8, 8), context);
            return new io.vfu.device.VfioDevice() {
                public int regionCount() {
                    return inner.regionCount();
                }

                public io.vfu.device.RegionInfo regionInfo(int index) {
                    return inner.regionInfo(index);
                }

                public void read(int region, long offset, ByteBuffer dst) {
                    inner.read(region, offset, dst);
                }

                public void write(int region, long offset, ByteBuffer src) {
                    inner.write(region, offset, src);
                }

                public io.vfu.device.Interrupts interrupts() {
                    return inner.interrupts();
                }

                public void reset() {
                    inner.reset();
                }

                public void dmaMapped(long iova, long size, boolean readable, boolean writable) {
                    heard.add("map " + Long.toHexString(iova) + "+" + Long.toHexString(size) + (writable ? " rw" : " r"));
                }

                public void dmaUnmapped(long iova, long size) {
                    heard.add("unmap " + Long.toHexString(iova) + "+" + Long.toHexString(size));
                }
            };
        }).start(); VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
            try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16}").get(5, TimeUnit.SECONDS)) {
                assertEquals(0, f.header().error());
            }
            io.vfu.protocol.DmaMap.Request ro = new io.vfu.protocol.DmaMap.Request(32,
                    io.vfu.protocol.DmaMap.FLAG_READ, 0, 0x10000, 0x1000);
            io.vfu.protocol.DmaMap.Request rw = new io.vfu.protocol.DmaMap.Request(32,
                    io.vfu.protocol.DmaMap.FLAG_READ | io.vfu.protocol.DmaMap.FLAG_WRITE, 0, 0x20000, 0x2000);
            c.call(Command.DMA_MAP, io.vfu.protocol.MessageEncoder.payload(ro)).close();
            c.call(Command.DMA_MAP, io.vfu.protocol.MessageEncoder.payload(rw)).close();
            c.call(Command.DMA_UNMAP, io.vfu.protocol.MessageEncoder.payload(
                    new io.vfu.protocol.DmaUnmap.Request(24, 0, 0x10000, 0x1000))).close();
            c.call(Command.DMA_UNMAP, io.vfu.protocol.MessageEncoder.payload(
                    new io.vfu.protocol.DmaUnmap.Request(24, io.vfu.protocol.DmaUnmap.FLAG_UNMAP_ALL, 0, 0))).close();
        }
        assertEquals(java.util.List.of("map 10000+1000 r", "map 20000+2000 rw", "unmap 10000+1000", "unmap 20000+2000"),
                heard);
    }

    private static long vendorAndDevice(Path socket) throws Exception {
        try (VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll())) {
            try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16}").get(5, TimeUnit.SECONDS)) {
                assertEquals(0, f.header().error(), Errno.fromCode(f.header().error()) + "");
            }
            ByteBuffer read = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(7).putInt(4)
                    .flip();
            try (Frame f = c.call(Command.REGION_READ, read)) {
                return Integer.toUnsignedLong(f.payload().order(ByteOrder.LITTLE_ENDIAN).getInt(16));
            }
        }
    }
}
