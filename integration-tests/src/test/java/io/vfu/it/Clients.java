package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.protocol.Command;
import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.transport.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.List;

/** Our own vfio-user client used as a second, independent client in tests. */
final class Clients {
    static final int REGION_BAR0 = 0;
    static final int REGION_CONFIG = 7;

    private Clients() {
    }

    /** The first line {@code process} prints on stdout (its ready line), or null if it ends first. */
    static String firstLine(Process process, Duration timeout) throws Exception {
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                process.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Connects and negotiates VERSION 0.0 with the capabilities QEMU 11 sends. */
    static VfioUserClient negotiated(Path socket) throws Exception {
        VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll());
        try (Frame f = c.version(0, 0, "{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576}")
                .get(5, TimeUnit.SECONDS)) {
            assertEquals(0, f.header().error(), "VERSION accepted");
        }
        return c;
    }

    /** REGION_READ payload (spec "VFIO_USER_REGION_READ"): offset u64, region u32, count u32. */
    static ByteBuffer regionRead(int region, long offset, long count) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(offset).putInt(region).putInt((int) count).flip();
    }

    /** Reads a 32-bit register: the reply repeats offset, region, count, then carries the data. */
    static long read32(VfioUserClient c, int region, long offset) throws Exception {
        try (Frame f = c.call(Command.REGION_READ, regionRead(region, offset, 4))) {
            ByteBuffer p = f.payload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(20, p.remaining(), "reply: offset, region, count, 4 data bytes");
            assertEquals(offset, p.getLong(0));
            assertEquals(4, p.getInt(12));
            return Integer.toUnsignedLong(p.getInt(16));
        }
    }

    /** Lines of {@code /proc/self/maps} naming {@code text} (e.g. a memfd mapping of guest RAM). */
    static List<String> mappings(String text) throws IOException {
        return ProcessResources.self().mappingsNaming(text);
    }

    /**
     * Mappings of memfds a client sent (guest RAM): every memfd mapping but the devices' own shared regions,
     * which the server names {@code vfu-<device>-region<n>} and keeps for the device's lifetime.
     */
    static List<String> clientMemfdMappings() throws IOException {
        return mappings("memfd:").stream().filter(m -> !m.contains("memfd:vfu-")).toList();
    }
}
