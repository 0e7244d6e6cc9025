package io.vfu.server.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.vfu.device.memmove.DeviceConfig;
import io.vfu.server.transport.SocketGroup;
import io.vfu.server.transport.SocketMode;
import java.nio.file.Path;

/**
 * One device of a {@code --config} file. Every layout field is optional and defaults to the built-in device
 * ({@link DeviceConfig#defaults()}); BAR sizes default to the smallest that fit the counts. IDs may be written
 * as numbers or as {@code "0x..."} strings. {@code socketMode} (an octal string, see {@link SocketMode}) and
 * {@code socketGroup} (a group name or numeric gid) override the config's top-level values for this device's
 * socket; absent, the top-level values apply ({@link ServerConfig#socketAccess}).
 *
 * <pre>{"name": "dev0", "socket": "/run/vfu/dev0.sock", "vendorId": "0x1b5a", "deviceId": "0x0001",
 *  "msixVectors": 64, "imsEntries": 256, "vectorBudget": 128, "socketMode": "0660", "socketGroup": "kvm"}</pre>
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record DeviceSpec(String name, Path socket, HexInt vendorId, HexInt deviceId, HexInt subsystemVendorId,
                         HexInt subsystemId, HexInt revisionId, HexInt classCode, Integer msixVectors,
                         Integer imsEntries, Integer vectorBudget, Long bar0Size, Long bar2Size, Long bar4Size,
                         Integer dmaMaxTransfer, SocketMode socketMode, SocketGroup socketGroup) {

    public DeviceSpec {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("device name must be 1-64 of [A-Za-z0-9_.-]: " + name);
        }
        if (socket == null) {
            throw new IllegalArgumentException("device " + name + " needs a socket path");
        }
    }

    /** A device whose socket takes the config's top-level mode and group. */
    public DeviceSpec(String name, Path socket, HexInt vendorId, HexInt deviceId, HexInt subsystemVendorId,
                      HexInt subsystemId, HexInt revisionId, HexInt classCode, Integer msixVectors,
                      Integer imsEntries, Integer vectorBudget, Long bar0Size, Long bar2Size, Long bar4Size,
                      Integer dmaMaxTransfer) {
        this(name, socket, vendorId, deviceId, subsystemVendorId, subsystemId, revisionId, classCode, msixVectors,
                imsEntries, vectorBudget, bar0Size, bar2Size, bar4Size, dmaMaxTransfer, null, null);
    }

    /** The default device on {@code socket}. */
    public static DeviceSpec defaultDevice(String name, Path socket) {
        return new DeviceSpec(name, socket, null, null, null, null, null, null, null, null, null, null, null, null,
                null);
    }

    /** The device model configuration; throws {@link IllegalArgumentException} for an impossible layout. */
    public DeviceConfig toDeviceConfig() {
        DeviceConfig d = DeviceConfig.defaults();
        int vendor = or(vendorId, d.vendorId());
        int device = or(deviceId, d.deviceId());
        int msix = msixVectors != null ? msixVectors : d.msixTableSize();
        int ims = imsEntries != null ? imsEntries : d.imsEntryCount();
        int budget = vectorBudget != null ? vectorBudget : d.vectorBudget();
        return new DeviceConfig(vendor, device, or(subsystemVendorId, vendor), or(subsystemId, device),
                or(revisionId, d.revisionId()), or(classCode, d.classCode()), msix, ims, budget,
                bar0Size != null ? bar0Size : DeviceConfig.minBar0Size(ims),
                bar2Size != null ? bar2Size : DeviceConfig.minBar2Size(msix),
                bar4Size != null ? bar4Size : DeviceConfig.minBar4Size(ims),
                dmaMaxTransfer != null ? dmaMaxTransfer : d.dmaMaxTransfer());
    }

    private static int or(HexInt v, int dflt) {
        return v != null ? v.value() : dflt;
    }
}
