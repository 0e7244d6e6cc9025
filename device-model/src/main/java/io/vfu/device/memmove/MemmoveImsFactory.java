package io.vfu.device.memmove;

import com.fasterxml.jackson.databind.JsonNode;
import io.vfu.device.DeviceContext;
import io.vfu.device.Settings;
import io.vfu.device.VfioDevice;
import io.vfu.device.VfioDeviceFactory;
import java.util.Set;

/**
 * The default device's type, {@value #TYPE}: a memmove engine with an IMS store ({@link MemmoveImsDevice}).
 * Every setting is optional and defaults to {@link DeviceConfig#defaults()}; BAR sizes default to the smallest
 * that fit the counts.
 *
 * <pre>{"type": "memmove-ims", "vendorId": "0x1b5a", "deviceId": "0x0001", "msixVectors": 64,
 *  "imsEntries": 256, "vectorBudget": 128}</pre>
 */
public final class MemmoveImsFactory implements VfioDeviceFactory {

    public static final String TYPE = "memmove-ims";

    private static final Set<String> KEYS = Set.of("vendorId", "deviceId", "subsystemVendorId", "subsystemId",
            "revisionId", "classCode", "msixVectors", "imsEntries", "vectorBudget", "bar0Size", "bar2Size",
            "publishRegisters",
            "bar4Size", "dmaMaxTransfer");

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String description() {
        return "memmove DMA engine with MSI-X and an interrupt message store (the default device)";
    }

    @Override
    public void validate(JsonNode settings) {
        config(settings);
    }

    @Override
    public VfioDevice create(JsonNode settings, DeviceContext context) {
        return new MemmoveImsDevice(config(settings), context, publishRegisters(settings));
    }

    /**
     * {@code "publishRegisters": true}: the registers a guest polls are also published in BAR2 memory the guest
     * maps (LAYOUT.md "Published registers"). Off by default: QEMU 11 sends every region write of a device with
     * a mappable area synchronously, so doorbells and other writes cost a round trip instead of a posted send.
     */
    public static boolean publishRegisters(JsonNode settings) {
        return Settings.of(TYPE, settings, KEYS).bool("publishRegisters", false);
    }

    /** The device configuration {@code settings} describe. */
    public static DeviceConfig config(JsonNode settings) {
        Settings s = Settings.of(TYPE, settings, KEYS);
        DeviceConfig d = DeviceConfig.defaults();
        int vendor = s.id("vendorId", d.vendorId(), 16);
        int device = s.id("deviceId", d.deviceId(), 16);
        int msix = (int) s.integer("msixVectors", d.msixTableSize(), 1, DeviceConfig.MAX_MSIX);
        int ims = (int) s.integer("imsEntries", d.imsEntryCount(), 1, DeviceConfig.MAX_IMS_ENTRIES);
        int budget = (int) s.integer("vectorBudget", d.vectorBudget(), 0, Integer.MAX_VALUE);
        return new DeviceConfig(vendor, device, s.id("subsystemVendorId", vendor, 16),
                s.id("subsystemId", device, 16), s.id("revisionId", d.revisionId(), 8),
                s.id("classCode", d.classCode(), 24), msix, ims, budget,
                s.integer("bar0Size", DeviceConfig.minBar0Size(ims), 1, 1L << 40),
                s.integer("bar2Size", DeviceConfig.minBar2Size(msix, ims), 1, 1L << 40),
                s.integer("bar4Size", DeviceConfig.minBar4Size(ims), 1, 1L << 40),
                (int) s.integer("dmaMaxTransfer", d.dmaMaxTransfer(), 1, Integer.MAX_VALUE));
    }
}
