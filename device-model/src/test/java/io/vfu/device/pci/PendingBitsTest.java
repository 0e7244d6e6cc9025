package io.vfu.device.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pending-bit array behind the PBA and the IMS pending bits. */
class PendingBitsTest {

    @Test
    void javaIntShiftTrapIsNotInTheBitSet() {
        PendingBits b = new PendingBits(128);
        b.set(40);
        assertTrue(b.get(40));
        assertFalse(b.get(8), "1 << 40 == 1 << 8 for int; the bit set must use long shifts");
        assertEquals(0, b.readDword(0), "bit 40 is in the upper dword of word 0");
        assertEquals(1 << 8, b.readDword(4));
        assertEquals(40, b.next(0));
        assertEquals(-1, b.next(41));
    }
}
