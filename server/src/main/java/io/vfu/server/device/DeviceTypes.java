package io.vfu.server.device;

import io.vfu.device.VfioDeviceFactory;
import io.vfu.device.memmove.MemmoveImsFactory;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The device types on the class path: every {@link VfioDeviceFactory} that {@link ServiceLoader} finds, by its
 * {@link VfioDeviceFactory#type()}. Loaded once.
 */
public final class DeviceTypes {

    /** The type of a device whose configuration names none: the built-in default device. */
    public static final String DEFAULT = MemmoveImsFactory.TYPE;

    private static final Map<String, VfioDeviceFactory> TYPES = load();

    private DeviceTypes() {
    }

    private static Map<String, VfioDeviceFactory> load() {
        Map<String, VfioDeviceFactory> types = new TreeMap<>();
        for (VfioDeviceFactory f : ServiceLoader.load(VfioDeviceFactory.class)) {
            VfioDeviceFactory other = types.putIfAbsent(f.type(), f);
            // Rule: a type names one factory; two jars claiming it is a deployment error, not a coin toss.
            if (other != null && other.getClass() != f.getClass()) {
                throw new IllegalStateException("device type \"" + f.type() + "\" is provided by both "
                        + other.getClass().getName() + " and " + f.getClass().getName());
            }
        }
        return Map.copyOf(types);
    }

    /**
     * The factory of {@code type}.
     *
     * @throws IllegalArgumentException for an unknown type, listing the known ones
     */
    public static VfioDeviceFactory factory(String type) {
        VfioDeviceFactory f = TYPES.get(type);
        if (f == null) {
            throw new IllegalArgumentException("unknown device type \"" + type + "\"; known types: " + known());
        }
        return f;
    }

    /** The known types with their descriptions, one per line after the first. */
    public static String known() {
        StringBuilder b = new StringBuilder();
        new TreeMap<>(TYPES).forEach((t, f) -> b.append(b.isEmpty() ? "" : ", ").append(t).append(" (")
                .append(f.description()).append(')'));
        return b.toString();
    }
}
