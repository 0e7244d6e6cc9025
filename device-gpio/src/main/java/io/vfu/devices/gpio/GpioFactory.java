package io.vfu.devices.gpio;

import com.fasterxml.jackson.databind.JsonNode;
import io.vfu.device.DeviceContext;
import io.vfu.device.Settings;
import io.vfu.device.VfioDevice;
import io.vfu.device.VfioDeviceFactory;
import java.util.Set;

/** Devices of type {@code "gpio"}: {@code {"type": "gpio", "deviceId": "0x0010"}} (deviceId optional). */
public final class GpioFactory implements VfioDeviceFactory {

    private static final Set<String> KEYS = Set.of("deviceId");

    @Override
    public String type() {
        return "gpio";
    }

    @Override
    public String description() {
        return "32 looped-back GPIO pins with an edge interrupt (the sample device)";
    }

    @Override
    public void validate(JsonNode settings) {
        deviceId(settings);
    }

    @Override
    public VfioDevice create(JsonNode settings, DeviceContext context) {
        return new GpioDevice(deviceId(settings), context);
    }

    private static int deviceId(JsonNode settings) {
        return Settings.of("gpio", settings, KEYS).id("deviceId", 0x0010, 16);
    }
}
