package io.vfu.devices.gpio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vfu.device.DeviceContext;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.MessageSink;
import io.vfu.device.RegionIndex;
import io.vfu.device.VfioDevice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sample device through its public face only: the factory, the region accesses and the vfio interrupts. */
class GpioDeviceTest {

    private final List<long[]> posted = new ArrayList<>();
    private int intxTriggers;
    private final DeviceContext context = new DeviceContext() {
        @Override
        public String name() {
            return "gpio0";
        }

        @Override
        public MessageSink postedWrites() {
            return (address, data) -> posted.add(new long[] {address, data});
        }

        @Override
        public void requestWork() {
        }
    };
    private final VfioDevice dev = new GpioFactory().create(null, context);

    private int read(int region, int offset) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        dev.read(region, offset, b);
        return b.getInt(0);
    }

    private void write(int region, int offset, int value) {
        dev.write(region, offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value));
    }

    @Test
    void identityAndLoopedBackPins() {
        assertEquals(0x0010_1b5a, read(RegionIndex.CONFIG, 0), "vendor 0x1b5a, device 0x0010");
        assertEquals(0x4F495047, read(0, GpioDevice.ID), "\"GPIO\"");
        write(0, GpioDevice.OUT, 0xA5A5_0001);
        assertEquals(0xA5A5_0001, read(0, GpioDevice.IN), "IN follows OUT");
        write(0, GpioDevice.IN, 0);
        assertEquals(0xA5A5_0001, read(0, GpioDevice.IN), "IN is read-only");
    }

    @Test
    void aRisingEdgeOnAnEnabledPinAssertsIntxUntilCleared() {
        dev.interrupts().set(IrqIndex.INTX, IrqAction.TRIGGER, 0, 1,
                new IrqData.Targets(List.of(() -> intxTriggers++)));
        write(0, GpioDevice.IRQ_ENABLE, 0b10);
        write(0, GpioDevice.OUT, 0b01);
        assertEquals(0, intxTriggers, "pin 0 is not enabled");
        write(0, GpioDevice.OUT, 0b11);
        assertEquals(1, intxTriggers, "pin 1 rose");
        assertEquals(0b10, read(0, GpioDevice.IRQ_STATUS));
        assertTrue((read(RegionIndex.CONFIG, 0x04) >>> 16 & 0x8) != 0, "Status.Interrupt Status follows INTA");
        write(0, GpioDevice.IRQ_STATUS, 0b10);
        assertEquals(0, read(0, GpioDevice.IRQ_STATUS), "write 1 to clear");
        assertEquals(0, read(RegionIndex.CONFIG, 0x04) >>> 16 & 0x8, "INTA deasserted");
    }

    @Test
    void withMsixEnabledAnEdgeFiresVector0() {
        write(RegionIndex.CONFIG, 0x40, 0x8000 << 16); // MSI-X capability at 0x40: Enable
        write(2, 0, 0xFEE0_0000); // table entry 0: address, data, unmasked
        write(2, 8, 0x41);
        write(2, 12, 0);
        write(0, GpioDevice.IRQ_ENABLE, 1);
        write(0, GpioDevice.OUT, 1);
        assertEquals(1, posted.size(), "one MSI (vector 0 has no vfio target: it posts its message)");
        assertEquals(0xFEE0_0000L, posted.get(0)[0]);
        assertEquals(0x41, posted.get(0)[1]);
    }

    @Test
    void settingsAreChecked() {
        ObjectMapper json = new ObjectMapper();
        assertEquals(0x0020_1b5a, Integer.toUnsignedLong(readId(new GpioFactory().create(
                json.createObjectNode().put("deviceId", "0x20"), context))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GpioFactory().validate(json.createObjectNode().put("pins", 8)));
        assertTrue(e.getMessage().contains("deviceId"), e.getMessage());
    }

    private static int readId(VfioDevice d) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        d.read(RegionIndex.CONFIG, 0, b);
        return b.getInt(0);
    }
}
