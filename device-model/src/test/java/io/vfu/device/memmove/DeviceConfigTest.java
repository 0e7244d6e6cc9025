package io.vfu.device.memmove;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class DeviceConfigTest {

    @Test
    void defaultsAreTheDocumentedDevice() {
        DeviceConfig c = DeviceConfig.defaults();
        assertEquals(0x1B5A, c.vendorId());
        assertEquals(0x0001, c.deviceId());
        assertEquals(0x088000, c.classCode());
        assertEquals(2048, c.msixTableSize());
        assertEquals(4096, c.imsEntryCount());
        assertEquals(2048, c.vectorBudget());
        assertEquals(0x8000, c.bar0Size());
        assertEquals(0x10000, c.bar2Size());
        assertEquals(0x20000, c.bar4Size());
        assertEquals(0x8000, DeviceConfig.pbaOffset(2048));
        assertEquals(0x10000, DeviceConfig.imsPendingOffset(4096));
    }

    @Test
    void smallTablesGetOnePageBars() {
        DeviceConfig c = DeviceConfig.defaults().withCounts(1, 1, 1);
        assertEquals(0x1000, DeviceConfig.pbaOffset(1));
        assertEquals(0x8000, c.bar2Size(), "table page + PBA page + published registers (3 pages), to a power of 2");
        assertEquals(0x8000, c.bar0Size(), "registers and counter windows");
    }

    @Test
    void invalidConfigurationsAreRejected() {
        DeviceConfig d = DeviceConfig.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withCounts(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> d.withCounts(2049, 1, 1), "PCI caps MSI-X at 2048");
        assertThrows(IllegalArgumentException.class, () -> d.withCounts(1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.withCounts(1, 1, -1));
        assertThrows(IllegalArgumentException.class, () -> DeviceConfig.of(0x1_0000, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DeviceConfig(1, 1, 1, 1, 1, 0x088000, 2048, 4096,
                1, 0x8000, 0x8000, 0x20000, 4096), "BAR2 too small for table + PBA");
        assertThrows(IllegalArgumentException.class, () -> new DeviceConfig(1, 1, 1, 1, 1, 0x088000, 2048, 4096,
                1, 0x8000, 0x18000, 0x20000, 4096), "BAR size not a power of two");
        assertThrows(IllegalArgumentException.class, () -> new DeviceConfig(1, 1, 1, 1, 256, 0x088000, 1, 1, 1,
                0x8000, 0x2000, 0x2000, 4096), "revision is 8 bits");
    }
}
