package io.vfu.server.config;

import io.vfu.server.socket.SocketGroup;
import io.vfu.server.socket.SocketMode;
import io.vfu.server.device.DeviceTypes;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.nio.file.Path;

/**
 * One device of a {@code --config} file: the server's keys, and the device's own settings.
 *
 * <p>The server's keys are {@code name}, {@code socket}, {@code type} (the device type, found on the class path
 * by {@link java.util.ServiceLoader}; default {@value DeviceTypes#DEFAULT}), and {@code socketMode} (an octal
 * string, see {@link SocketMode}) and {@code socketGroup} (a group name or numeric gid), which override the
 * config's top-level values for this device's socket. Every other key is the device's: its factory checks them
 * ({@link io.vfu.device.VfioDeviceFactory#validate}) and refuses keys it does not know.
 *
 * <pre>{"name": "dev0", "socket": "/run/vfu/dev0.sock", "type": "memmove-ims", "vendorId": "0x1b5a",
 *  "msixVectors": 64, "imsEntries": 256, "vectorBudget": 128, "socketMode": "0660", "socketGroup": "kvm"}</pre>
 *
 * @param settings the device's keys, an object (never null)
 */
public record DeviceSpec(String name, Path socket, String type, SocketMode socketMode, SocketGroup socketGroup,
                         ObjectNode settings) {

    /** The keys of a device entry that belong to the server, not to the device's settings. */
    public static final Set<String> SERVER_KEYS = Set.of("name", "socket", "type", "socketMode", "socketGroup");

    public DeviceSpec {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("device name must be 1-64 of [A-Za-z0-9_.-]: " + name);
        }
        if (socket == null) {
            throw new IllegalArgumentException("device " + name + " needs a socket path");
        }
        type = type == null ? DeviceTypes.DEFAULT : type;
        settings = settings == null ? JsonNodeFactory.instance.objectNode() : settings.deepCopy();
        for (String key : SERVER_KEYS) {
            if (settings.has(key)) {
                throw new IllegalArgumentException("device " + name + ": \"" + key + "\" is a server key, not a "
                        + "device setting");
            }
        }
    }

    /** The default device on {@code socket}, with the config's top-level socket mode and group. */
    public static DeviceSpec defaultDevice(String name, Path socket) {
        return new DeviceSpec(name, socket, DeviceTypes.DEFAULT, null, null, null);
    }

    /** A device of {@code type} on {@code socket} with {@code settings}, top-level socket mode and group. */
    public static DeviceSpec of(String name, Path socket, String type, ObjectNode settings) {
        return new DeviceSpec(name, socket, type, null, null, settings);
    }

    /** The settings, read-only (a copy). */
    @Override
    public ObjectNode settings() {
        return settings.deepCopy();
    }

    /**
     * Checks the device's settings with its type's factory, naming this device in any error.
     *
     * @throws IllegalArgumentException for an unknown type or a bad setting
     */
    public void validate() {
        try {
            DeviceTypes.factory(type).validate(settings);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("device " + name + ": " + e.getMessage(), e);
        }
    }
}
