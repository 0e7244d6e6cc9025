package io.vfu.it.blk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which device serves the guest's {@code /dev/vda}; the guest program and its checks are the same for both.
 */
public enum BlkBackend {
    /**
     * QEMU's own in-process {@code virtio-blk-pci}: the anchor the guest program was validated against, and the
     * performance reference. {@code cache=none} opens the image with O_DIRECT (like our {@code directIo});
     * {@code discard=unmap} makes a guest discard punch a hole in the raw file, so the discarded range reads back
     * as zeros as it does on our device (the default, {@code discard=ignore}, drops discards and the range keeps
     * its old data).
     */
    QEMU {
        @Override
        public List<String> qemuArgs(BlkDisk disk, Path socket) {
            return List.of("-drive", "file=" + disk.image() + ",format=raw,if=none,id=vda,cache=none,discard=unmap",
                    "-device", "virtio-blk-pci,drive=vda,serial=" + disk.serial() + ",num-queues=" + disk.queues());
        }
    },
    /** Our {@code virtio-blk} device, served by vfu-server on {@code socket} and attached with vfio-user-pci. */
    VFU {
        @Override
        public List<String> qemuArgs(BlkDisk disk, Path socket) {
            // QEMU 11 takes the socket only in the JSON form of -device.
            Map<String, Object> device = new LinkedHashMap<>();
            device.put("driver", "vfio-user-pci");
            device.put("socket", Map.of("path", socket.toString(), "type", "unix"));
            return List.of("-device", json(device));
        }
    };

    private static final ObjectMapper JSON = new ObjectMapper();

    /** QEMU arguments that give the guest this disk; {@code socket} is the server's (unused by {@link #QEMU}). */
    public abstract List<String> qemuArgs(BlkDisk disk, Path socket);

    /**
     * The vfu-server {@code --config} JSON serving {@code disk} as device {@code name} on {@code socket}, with
     * direct I/O (the counterpart of QEMU's {@code cache=none}).
     */
    public static String serverConfig(String name, BlkDisk disk, Path socket) {
        Map<String, Object> device = new LinkedHashMap<>();
        device.put("name", name);
        device.put("socket", socket.toString());
        device.put("type", "virtio-blk");
        device.put("image", disk.image().toString());
        device.put("size", disk.size());
        device.put("queues", disk.queues());
        device.put("serial", disk.serial());
        device.put("directIo", true);
        return json(Map.of("devices", List.of(device))) + "\n";
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
