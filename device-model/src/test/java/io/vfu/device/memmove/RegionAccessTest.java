package io.vfu.device.memmove;

import io.vfu.device.DeviceException;
import io.vfu.device.RegionInfo;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class RegionAccessTest {

    private final Harness h = new Harness();

    @Test
    void regionInfoDescribesBarsConfigAndAbsentRegions() {
        assertEquals(9, h.dev.regionCount());
        assertEquals(RegionInfo.readWrite(0, 0x8000), h.dev.regionInfo(0));
        assertEquals(RegionInfo.readWrite(2, 0x10000), h.dev.regionInfo(2));
        assertEquals(RegionInfo.readWrite(4, 0x20000), h.dev.regionInfo(4));
        assertEquals(RegionInfo.readWrite(7, 4096), h.dev.regionInfo(7));
        for (int i : new int[] {1, 3, 5, 6, 8}) {
            assertEquals(0, h.dev.regionInfo(i).size(), "region " + i);
        }
        assertEquals(DeviceException.Kind.INVALID_ARGUMENT,
                assertThrows(DeviceException.class, () -> h.dev.regionInfo(9)).kind());
    }

    @Test
    void outOfRangeAccessesThrowTypedErrors() {
        ByteBuffer four = ByteBuffer.allocate(4);
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.read(7, 4093, four.clear()));
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.read(7, -4, four.clear()));
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.read(7, Long.MAX_VALUE, four.clear()));
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.write(0, 0x8000, four.clear()));
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.read(6, 0, four.clear()));
        assertKind(DeviceException.Kind.OUT_OF_RANGE, () -> h.dev.read(8, 0, four.clear()));
        assertKind(DeviceException.Kind.INVALID_ARGUMENT, () -> h.dev.read(10, 0, four.clear()));
        h.dev.read(7, 4092, four.clear());
        h.dev.read(7, 4096, ByteBuffer.allocate(0));
    }

    @Test
    void bar0IdentifiesTheLayoutAndScratchRegistersHoldValues() {
        assertEquals(DeviceRegisters.MAGIC, h.bar0(DeviceRegisters.ID));
        assertEquals(2048, h.bar0(DeviceRegisters.MSIX_COUNT));
        assertEquals(4096, h.bar0(DeviceRegisters.IMS_COUNT));
        assertEquals(2048, h.bar0(DeviceRegisters.BUDGET_TOTAL));
        for (int i = 0; i < DeviceRegisters.SCRATCH_COUNT; i++) {
            h.bar0Write(DeviceRegisters.SCRATCH + 4 * i, 0xA5A5_0000 | i);
        }
        for (int i = 0; i < DeviceRegisters.SCRATCH_COUNT; i++) {
            assertEquals(0xA5A5_0000 | i, h.bar0(DeviceRegisters.SCRATCH + 4 * i));
        }
        ByteBuffer q = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        q.putLong(0, 0x1122_3344_5566_7788L);
        h.dev.write(0, DeviceRegisters.SCRATCH, q);
        assertEquals(0x5566_7788, h.bar0(DeviceRegisters.SCRATCH));
        assertEquals(0x1122_3344, h.bar0(DeviceRegisters.SCRATCH + 4));
        h.dev.write(0, DeviceRegisters.SCRATCH + 1, ByteBuffer.wrap(new byte[] {0x00}));
        assertEquals(0x5566_0088, h.bar0(DeviceRegisters.SCRATCH));
    }

    @Test
    void badDoorbellsReportInTheErrorRegister() {
        h.bar0Write(DeviceRegisters.DOORBELL_MSIX, 2048);
        assertEquals(ErrorRegister.BAD_MSIX_VECTOR, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(2048, h.bar0(DeviceRegisters.ERROR_INFO));
        h.bar0Write(DeviceRegisters.DOORBELL_IMS, -1);
        assertEquals(ErrorRegister.BAD_IMS_ENTRY, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(DeviceRegisters.STATUS_ERROR, h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_ERROR);
    }

    private static void assertKind(DeviceException.Kind kind, org.junit.jupiter.api.function.Executable e) {
        assertEquals(kind, assertThrows(DeviceException.class, e).kind());
    }
}
