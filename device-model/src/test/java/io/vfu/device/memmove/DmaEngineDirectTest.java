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
    void aRecordReachableByMessageOnlyLeavesTheCopyUnmadeForTheWorker() {
        mem.messageOnlyAt = RECORDS;
        descriptors(4096, 1);
        assertFalse(h.dev.dma().runDirect(mem, NO_LOCK));
        assertEquals(0, mem.ram[(int) (DST - RAM)], "nothing copied, so the worker's copy is the only one");
        assertEquals(1, h.dev.dma().runPending(mem, NO_LOCK));
        assertCopied(0, 4096);
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
                // Rule: while one thread runs the engine, the other returns at once (asking for a worker run) and
                // the first finishes both.
                inner[0] = h.dev.dma().runDirect(mem, NO_LOCK);
            }
        };
        assertEquals(2, h.dev.dma().runPending(mem, reentering));
        assertFalse(inner[0], "the worker is asked to run too, in case the running one stops first");
        assertCopied(0, 4096);
        assertCopied(1, 4096);
    }

    /**
     * The worker finds the ring empty and lets go of the engine; before it has looked at what it found, the
     * doorbell's thread takes the engine for a new descriptor. The worker must see that it no longer runs the
     * engine: one completion per descriptor, the head never past the tail.
     */
    @Test
    void aRunnerThatLetGoNeverRunsTheNextOwnersDescriptor() throws Exception {
        descriptors(4096, 1);
        java.util.concurrent.CountDownLatch emptySeen = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch goOn = new java.util.concurrent.CountDownLatch(1);
        int[] steps = new int[1];
        DeviceLock pausing = action -> {
            synchronized (h) {
                action.run();
            }
            // Steps: claim slot 0, finish it, claim again and find the ring empty: pause there.
            if (++steps[0] == 3) {
                emptySeen.countDown();
                try {
                    goOn.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        int[] workerDone = new int[1];
        Thread worker = new Thread(() -> workerDone[0] = h.dev.dma().runPending(mem, pausing));
        worker.start();
        assertTrue(emptySeen.await(5, java.util.concurrent.TimeUnit.SECONDS));
        synchronized (h) {
            mem.putLong(RING + SIZE + DmaDescriptor.SRC, SRC);
            mem.putLong(RING + SIZE + DmaDescriptor.DST, DST + 0x1000);
            mem.putInt(RING + SIZE + LENGTH, 4096);
            mem.putInt(RING + SIZE + FLAGS, flags(IRQ_MSIX, 3));
            mem.putLong(RING + SIZE + COMPLETION, RECORDS + 8);
            h.bar0Write(DeviceRegisters.DMA_TAIL, 2);
        }
        // The doorbell's thread takes the engine and claims slot 1; while it holds the claim, the worker goes on.
        java.util.concurrent.CountDownLatch claimedByDirect = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch directGoOn = new java.util.concurrent.CountDownLatch(1);
        int[] directSteps = new int[1];
        DeviceLock holdAfterClaim = action -> {
            synchronized (h) {
                action.run();
            }
            if (++directSteps[0] == 1) {
                claimedByDirect.countDown();
                try {
                    directGoOn.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Thread direct = new Thread(() -> h.dev.dma().runDirect(mem, holdAfterClaim));
        direct.start();
        assertTrue(claimedByDirect.await(5, java.util.concurrent.TimeUnit.SECONDS));
        goOn.countDown();
        worker.join(5000);
        directGoOn.countDown();
        direct.join(5000);
        synchronized (h) {
            assertEquals(2, h.bar0(DeviceRegisters.DMA_COMPLETED), "each descriptor completed once");
            assertEquals(2, h.bar0(DeviceRegisters.DMA_HEAD), "the head stops at the tail");
            assertEquals(2, irq.triggers);
        }
        assertEquals(1, workerDone[0], "the worker ran its one descriptor and no other");
        assertCopied(1, 4096);
    }
}
