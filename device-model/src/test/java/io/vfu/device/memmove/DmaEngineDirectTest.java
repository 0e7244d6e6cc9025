package io.vfu.device.memmove;

import static io.vfu.device.memmove.DmaDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

import io.vfu.device.DeviceLock;
import io.vfu.device.pci.PciRegs;
import org.junit.jupiter.api.Test;

/**
 * The doorbell's own thread runs short copies in directly mapped memory ({@link DmaEngine#runDirect}); whatever
 * it cannot finish that way the worker does, with the same outcome for the guest.
 */
class DmaEngineDirectTest {
    static final long RAM = 0x10_0000L;
    static final long RING = RAM;
    static final long RECORDS = RAM + 0x800;
    static final long DST = RAM + 0x1000; // slot n writes DST + n * 0x1000
    static final long SRC = RAM + 0x20000; // above everything else, so a fault there hits the source alone
    static final DeviceLock NO_LOCK = Runnable::run;

    private final Harness h = new Harness();
    private final TestMemory mem = new TestMemory(RAM, 0x40000);
    private final Harness.Target irq = new Harness.Target("v3");

    DmaEngineDirectTest() {
        mem.directFrom = RAM;
        h.msixControl(true, false);
        h.assign(3, irq);
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER);
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_LO, (int) RING);
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_HI, 0);
        h.bar0Write(DeviceRegisters.DMA_RING_SIZE, 8);
        h.bar0Write(DeviceRegisters.DMA_CONTROL, 1);
        for (int i = 0; i <= 0x10000; i++) {
            mem.ram[(int) (SRC - RAM) + i] = (byte) (i * 13 + 1);
        }
    }

    private void descriptors(long length, int count) {
        for (int slot = 0; slot < count; slot++) {
            long d = RING + (long) slot * SIZE;
            mem.putLong(d + DmaDescriptor.SRC, SRC);
            mem.putLong(d + DmaDescriptor.DST, DST + slot * 0x1000L);
            mem.putInt(d + LENGTH, (int) length);
            mem.putInt(d + FLAGS, flags(IRQ_MSIX, 3));
            mem.putLong(d + COMPLETION, RECORDS + 8L * slot);
        }
        h.bar0Write(DeviceRegisters.DMA_TAIL, count);
    }

    private void assertCopied(int slot, long length) {
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS + 8L * slot), "record " + slot);
        assertEquals((int) length, mem.getInt(RECORDS + 8L * slot + 4), "bytes of " + slot);
        for (int i = 0; i < length; i += 97) {
            assertEquals(mem.ram[(int) (SRC - RAM) + i], mem.ram[(int) (DST - RAM) + slot * 0x1000 + i], "byte " + i);
        }
    }

    @Test
    void aShortCopyInMappedMemoryIsDoneOnTheCallingThreadWithItsRecordAndInterrupt() {
        descriptors(4096, 1);
        assertTrue(h.dev.dma().runDirect(mem, NO_LOCK), "nothing left for the worker");
        assertCopied(0, 4096);
        assertEquals(1, irq.triggers);
        assertEquals(1, h.bar0(DeviceRegisters.DMA_COMPLETED));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_HEAD));
        assertEquals(0, h.dev.dma().runPending(mem, NO_LOCK), "the worker finds the ring empty");
    }

    @Test
    void memoryReachableOnlyByMessageLeavesTheWholeDescriptorToTheWorker() {
        mem.directTo = DST; // the destination's window is served by message only
        descriptors(4096, 1);
        assertFalse(h.dev.dma().runDirect(mem, NO_LOCK));
        assertEquals(0, mem.getInt(RECORDS), "no record written");
        assertEquals(0, mem.ram[(int) (DST - RAM)], "nothing written");
        assertEquals(0, irq.triggers);
        assertEquals(0, h.bar0(DeviceRegisters.DMA_HEAD), "the head stays for the worker");
        assertEquals(1, h.dev.dma().runPending(mem, NO_LOCK));
        assertCopied(0, 4096);
        assertEquals(1, irq.triggers, "one completion, one interrupt");
    }

    @Test
    void aBudgetBoundsWhatTheCallingThreadDoesAndTheWorkerDoesTheRest() {
        descriptors(4096, DmaEngine.DIRECT_DESCRIPTORS + 2);
        assertFalse(h.dev.dma().runDirect(mem, NO_LOCK), "more descriptors than the budget");
        assertEquals(DmaEngine.DIRECT_DESCRIPTORS, h.bar0(DeviceRegisters.DMA_COMPLETED));
        assertEquals(2, h.dev.dma().runPending(mem, NO_LOCK));
        for (int slot = 0; slot < DmaEngine.DIRECT_DESCRIPTORS + 2; slot++) {
            assertCopied(slot, 4096);
        }
    }

    @Test
    void aCopyLongerThanTheByteBudgetGoesToTheWorker() {
        descriptors(DmaEngine.DIRECT_BYTES + 1, 1);
        assertFalse(h.dev.dma().runDirect(mem, NO_LOCK));
        assertEquals(0, h.bar0(DeviceRegisters.DMA_COMPLETED));
        assertEquals(1, h.dev.dma().runPending(mem, NO_LOCK));
        assertCopied(0, DmaEngine.DIRECT_BYTES + 1);
    }

    @Test
    void aFaultEndsTheDescriptorAsTheWorkerWouldWithoutTryingItTwice() {
        mem.faultFrom = SRC + 0x800; // the source's window lost its backing
        descriptors(4096, 1);
        assertTrue(h.dev.dma().runDirect(mem, NO_LOCK));
        assertEquals(STATUS_READ_FAULT, mem.getInt(RECORDS), "read fault, as the chunked copy reports it");
        assertEquals(0, mem.getInt(RECORDS + 4), "no bytes copied");
        assertEquals(STATUS_READ_FAULT, h.bar0(DeviceRegisters.DMA_LAST_STATUS));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_ERRORS));
        assertEquals(1, irq.triggers, "a faulted descriptor still interrupts");
    }

    @Test
    void aSecondRunnerLeavesTheWorkToTheOneRunning() throws Exception {
        descriptors(4096, 2);
        boolean[] inner = new boolean[1];
        int[] steps = new int[1];
        DeviceLock reentering = action -> {
            action.run();
            if (++steps[0] == 1) {
                // Rule: while one thread runs the engine, the other returns at once and the first finishes both.
                inner[0] = h.dev.dma().runDirect(mem, NO_LOCK);
            }
        };
        assertEquals(2, h.dev.dma().runPending(mem, reentering));
        assertTrue(inner[0], "the running one will see the work");
        assertCopied(0, 4096);
        assertCopied(1, 4096);
    }
}
