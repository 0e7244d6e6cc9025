package io.vfu.device;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Makes devices of one type. The server finds factories with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.vfu.device.VfioDeviceFactory}, or {@code provides} it in {@code module-info}) and
 * picks one by the {@code "type"} of each device in its configuration; every other key of that device's entry,
 * except the server's own ({@code name}, {@code socket}, {@code socketMode}, {@code socketGroup}), is the
 * device's settings.
 */
public interface VfioDeviceFactory {

    /** The name of this device type in a configuration, e.g. {@code "memmove-ims"}; unique on the class path. */
    String type();

    /** One line saying what the device is (listed when a configuration names an unknown type). */
    default String description() {
        return type();
    }

    /**
     * Checks {@code settings} as {@link #create} would, without making a device: the server calls it when it
     * loads its configuration, so a mistake is reported before any socket is bound.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with it ({@link Settings} does that)
     */
    void validate(JsonNode settings);

    /**
     * A new device from {@code settings} (an object; empty when the entry has only server keys).
     *
     * @throws IllegalArgumentException as {@link #validate}
     */
    VfioDevice create(JsonNode settings, DeviceContext context);
}
