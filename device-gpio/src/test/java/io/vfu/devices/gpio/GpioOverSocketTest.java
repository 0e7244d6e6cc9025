package io.vfu.devices.gpio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.testkit.DeviceClient;
import io.vfu.testkit.VfioDeviceExtension;
import io.vfu.transport.nativeio.EventFd;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The sample device served by the real server over a real socket, with the test kit: what the guide walks
 * through. Interrupts arrive on real eventfds, as QEMU would receive them.
 */
class GpioOverSocketTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @RegisterExtension
    final VfioDeviceExtension gpio = VfioDeviceExtension.ofType("gpio", "{\"deviceId\": \"0x0042\"}");

    @Test
    void identityAndPins() throws Exception {
        DeviceClient c = gpio.client();
        assertEquals(0x0042_1b5aL, c.config32(0), "vendor 0x1b5a, the configured device id");
        assertEquals(0x4F495047L, c.read(0, GpioDevice.ID, 4), "\"GPIO\"");
        c.write(0, GpioDevice.OUT, 4, 0xF0);
        assertEquals(0xF0, c.read(0, GpioDevice.IN, 4), "IN follows OUT");
    }

    @Test
    void anEdgeSignalsTheIntxEventfdUntilUnmaskedAgain() throws Exception {
        DeviceClient c = gpio.client();
        EventFd intx = c.assignIntx();
        c.write(0, GpioDevice.IRQ_ENABLE, 4, 1);
        c.write(0, GpioDevice.OUT, 4, 1);
        assertEquals(1, DeviceClient.await(intx, WAIT).orElseThrow(), "the rising edge asserted INTA");
        c.write(0, GpioDevice.IRQ_STATUS, 4, 1);
        assertEquals(0, c.read(0, GpioDevice.IRQ_STATUS, 4));
    }

    @Test
    void withMsixAnEdgeSignalsVector0() throws Exception {
        DeviceClient c = gpio.client();
        c.enableMsix();
        EventFd vector0 = c.assignMsix(0);
        c.write(0, GpioDevice.IRQ_ENABLE, 4, 0b100);
        c.write(0, GpioDevice.OUT, 4, 0b100);
        assertEquals(1, DeviceClient.await(vector0, WAIT).orElseThrow(), "vector 0 fired");
        String scrape = gpio.server().registry().scrape();
        assertTrue(scrape.contains("vfu_interrupts_delivered_total{device=\"dut\",index=\"MSIX\"} 1.0"), scrape);
        assertTrue(scrape.contains("vfu_device_gpio_edges_total{device=\"dut\"} 1.0"), "the device's own metric");
    }
}
