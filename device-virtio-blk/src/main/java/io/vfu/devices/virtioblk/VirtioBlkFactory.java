package io.vfu.devices.virtioblk;

import com.fasterxml.jackson.databind.JsonNode;
import io.vfu.device.DeviceContext;
import io.vfu.device.VfioDevice;
import io.vfu.device.VfioDeviceFactory;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Devices of type {@code "virtio-blk"}: a virtio 1.2 block device backed by a raw image file (see
 * {@link BlkSettings} for the keys).
 */
public final class VirtioBlkFactory implements VfioDeviceFactory {

    @Override
    public String type() {
        return "virtio-blk";
    }

    @Override
    public String description() {
        return "virtio-blk (virtio 1.2 modern PCI) backed by a raw image file";
    }

    @Override
    public void validate(JsonNode settings) {
        BlkSettings.parse(settings);
    }

    @Override
    public VfioDevice create(JsonNode settings, DeviceContext context) {
        BlkSettings s = BlkSettings.parse(settings);
        try {
            return new VirtioBlkDevice(s, BlockBackend.open(s), context);
        } catch (IOException e) {
            throw new UncheckedIOException("virtio-blk device " + context.name() + ": " + e.getMessage(), e);
        }
    }
}
