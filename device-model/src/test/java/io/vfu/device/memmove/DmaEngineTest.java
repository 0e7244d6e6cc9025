package io.vfu.device.memmove;

import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.GuestMemoryException;
import io.vfu.device.pci.PciRegs;

import static io.vfu.device.memmove.DmaDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

class DmaEngineTest {

    static final long RAM = 0x10_0000L;
    static final long RING = RAM;
    static final long SRC = RAM + 0x1000;
    static final long DST = RAM + 0x8000;
    static final long RECORDS = RAM + 0xF000;
    static final DeviceLock NO_LOCK = Runnable::run;

    private final Harness h = new Harness();
    private final TestMemory mem = new TestMemory(RAM, 0x10000);

    private void ring(long base, int size) {
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER);
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_LO, (int) base);
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_HI, (int) (base >>> 32));
        h.bar0Write(DeviceRegisters.DMA_RING_SIZE, size);
        h.bar0Write(DeviceRegisters.DMA_CONTROL, 1);
    }

    private void descriptor(int slot, long src, long dst, long len, int flags, long record) {
        long d = RING + (long) slot * SIZE;
        mem.putLong(d + SRC_OFF, src);
        mem.putLong(d + DST_OFF, dst);
        mem.putInt(d + LENGTH, (int) len);
        mem.putInt(d + FLAGS, flags);
        mem.putLong(d + COMPLETION, record);
    }

    private static final int SRC_OFF = DmaDescriptor.SRC;
    private static final int DST_OFF = DmaDescriptor.DST;

    @Test
    void copiesWritesTheRecordThenRaisesTheMsixVector() {
        h.msixControl(true, false);
        Harness.Target t = new Harness.Target("v9");
        h.assign(9, t);
        for (int i = 0; i < 1000; i++) {
            mem.ram[(int) (SRC - RAM) + i] = (byte) (i * 7);
        }
        ring(RING, 8);
        descriptor(0, SRC, DST, 1000, flags(IRQ_MSIX, 9), RECORDS);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        assertEquals(1, h.workKicks, "the doorbell schedules work");
        assertEquals(0, t.triggers, "the doorbell itself copies nothing");
        assertEquals(DeviceRegisters.STATUS_DMA_PENDING,
                h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_DMA_PENDING);
        int[] calls = new int[1];
        DeviceLock checking = action -> {
            // Second lock entry = the finish step: the record must already be in memory, no interrupt yet.
            if (++calls[0] == 2) {
                assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS));
                assertEquals(0, t.triggers);
            }
            action.run();
        };
        assertEquals(1, h.dev.dma().runPending(mem, checking));
        for (int i = 0; i < 1000; i++) {
            assertEquals((byte) (i * 7), mem.ram[(int) (DST - RAM) + i]);
        }
        assertEquals(0, mem.ram[(int) (DST - RAM) + 1000], "nothing past the length");
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS));
        assertEquals(1000, mem.getInt(RECORDS + 4));
        assertEquals(1, t.triggers);
        assertEquals(1, h.bar0(DeviceRegisters.DMA_HEAD));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_COMPLETED));
        assertEquals(0, h.bar0(DeviceRegisters.DMA_ERRORS));
        assertEquals(0, h.dev.dma().runPending(mem, NO_LOCK));
    }

    @Test
    void imsSelectorPostsTheEntryMessage() {
        h.programIms(300, 0xFEE0_0000L, 0x61);
        h.imsControl(300, 0);
        ring(RING, 4);
        descriptor(0, SRC, DST, 64, flags(IRQ_IMS, 300), RECORDS);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        h.dev.dma().runPending(mem, NO_LOCK);
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS));
        assertEquals(List.of(new Harness.Posted(0xFEE0_0000L, 0x61)), h.posted);
    }

    @Test
    void badDescriptorsCompleteWithErrorStatusesAndTheRingKeepsGoing() {
        h.programIms(1, 0xFEE0_0000L, 1);
        h.imsControl(1, 0);
        int irq = flags(IRQ_IMS, 1);
        ring(RING, 16);
        descriptor(0, SRC, DST, 0, irq, RECORDS);
        descriptor(1, SRC, DST, (1 << 20) + 1, irq, RECORDS + 8);
        descriptor(2, -16L, DST, 32, irq, RECORDS + 16);
        descriptor(3, SRC, SRC + 8, 16, irq, RECORDS + 24);
        descriptor(4, 0x9000_0000L, DST, 16, irq, RECORDS + 32);
        descriptor(5, SRC, 0x9000_0000L, 16, irq, RECORDS + 40);
        descriptor(6, SRC, DST, 16, irq | 0x100, RECORDS + 48);
        descriptor(7, SRC, DST, 16, flags(IRQ_MSIX, 2048), RECORDS + 56);
        descriptor(8, SRC, DST, 16, flags(3, 0), RECORDS + 64);
        descriptor(9, SRC, DST, 16, irq, 0x9000_0000L);
        descriptor(10, SRC, DST, 16, irq, RECORDS + 80);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 11);
        assertEquals(11, h.dev.dma().runPending(mem, NO_LOCK));
        int[] expected = {STATUS_ZERO_LENGTH, STATUS_TOO_LONG, STATUS_ADDRESS_OVERFLOW, STATUS_OVERLAP,
            STATUS_READ_FAULT, STATUS_WRITE_FAULT, STATUS_BAD_FLAGS, STATUS_BAD_IRQ, STATUS_BAD_IRQ};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], mem.getInt(RECORDS + 8L * i), "descriptor " + i);
            assertEquals(0, mem.getInt(RECORDS + 8L * i + 4), "no bytes copied by descriptor " + i);
        }
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS + 80), "the ring keeps going after errors");
        assertEquals(11, h.bar0(DeviceRegisters.DMA_COMPLETED));
        assertEquals(10, h.bar0(DeviceRegisters.DMA_ERRORS));
        assertEquals(STATUS_SUCCESS, h.bar0(DeviceRegisters.DMA_LAST_STATUS));
        // Errors with a valid selector still interrupt (7 + record fault + success); bad selectors do not.
        assertEquals(9, h.posted.size());
    }

    /** Found by the abuse fuzzer: reserved flag bits are judged first, and a bad selector then raised nothing. */
    @Test
    void reservedFlagBitsWithABadSelectorCompleteAndRaiseNothing() {
        ring(RING, 4);
        descriptor(0, SRC, DST, 16, flags(IRQ_MSIX, 0xFFFF) | 0x100, RECORDS);
        descriptor(1, SRC, DST, 16, flags(IRQ_IMS, 0xFFFF) | 0x100, RECORDS + 8);
        descriptor(2, SRC, DST, 16, 0, RECORDS + 16);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 3);
        assertEquals(3, h.dev.dma().runPending(mem, NO_LOCK), "no descriptor stops the ring");
        assertEquals(STATUS_BAD_FLAGS, mem.getInt(RECORDS));
        assertEquals(STATUS_BAD_FLAGS, mem.getInt(RECORDS + 8));
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS + 16));
        assertEquals(0, h.posted.size(), "an out-of-range selector raises nothing");
    }

    @Test
    void ringWrapsAndBadTailIsReported() {
        ring(RING, 4);
        for (int round = 0; round < 3; round++) {
            for (int s = 0; s < 3; s++) {
                descriptor(s, SRC, DST, 8, 0, RECORDS + 8L * s);
            }
        }
        h.bar0Write(DeviceRegisters.DMA_TAIL, 3);
        assertEquals(3, h.dev.dma().runPending(mem, NO_LOCK));
        descriptor(3, SRC, DST, 8, 0, 0);
        descriptor(0, SRC, DST, 8, 0, 0);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        assertEquals(2, h.dev.dma().runPending(mem, NO_LOCK));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_HEAD));
        h.bar0Write(DeviceRegisters.DMA_TAIL, 4);
        assertEquals(ErrorRegister.BAD_DMA_TAIL, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_TAIL));
    }

    @Test
    void invalidRingConfigurationIsRefusedVisibly() {
        ring(RING + 4, 4);
        assertEquals(ErrorRegister.BAD_DMA_RING, h.bar0(DeviceRegisters.ERROR_CODE));
        assertEquals(0, h.bar0(DeviceRegisters.DMA_CONTROL));
        h.bar0Write(DeviceRegisters.ERROR_CODE, 0);
        ring(RING, 3);
        assertEquals(ErrorRegister.BAD_DMA_RING, h.bar0(DeviceRegisters.ERROR_CODE));
        h.bar0Write(DeviceRegisters.DMA_TAIL, 0);
        assertEquals(0, h.workKicks);
    }

    @Test
    void nothingRunsWithoutBusMasterEnableAndSettingItResumes() {
        ring(RING, 4);
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY);
        descriptor(0, SRC, DST, 8, 0, RECORDS);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        assertEquals(0, h.workKicks, "no bus mastering: nothing to schedule");
        assertEquals(0, h.dev.dma().runPending(mem, NO_LOCK));
        assertEquals(0, mem.getInt(RECORDS));
        assertEquals(DeviceRegisters.STATUS_DMA_PENDING,
                h.bar0(DeviceRegisters.STATUS) & DeviceRegisters.STATUS_DMA_PENDING, "the work stays queued");
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER);
        assertEquals(1, h.workKicks, "Bus Master Enable schedules the queued work");
        assertEquals(1, h.dev.dma().runPending(mem, NO_LOCK));
        assertEquals(STATUS_SUCCESS, mem.getInt(RECORDS));
    }

    @Test
    void unreadableDescriptorCompletesWithoutRecordOrInterrupt() {
        faultOnce(h);
        assertEquals(STATUS_DESCRIPTOR_FAULT, h.bar0(DeviceRegisters.DMA_LAST_STATUS));
        assertEquals(1, h.bar0(DeviceRegisters.DMA_ERRORS));
        assertTrue(h.posted.isEmpty());
    }

    /** Run one descriptor from an unmapped ring: the engine reports a descriptor fault. */
    static void faultOnce(Harness h) {
        h.cfgWrite(PciRegs.COMMAND, PciRegs.CMD_MEMORY | PciRegs.CMD_BUS_MASTER);
        h.bar0Write(DeviceRegisters.DMA_RING_BASE_LO, 0x4000_0000);
        h.bar0Write(DeviceRegisters.DMA_RING_SIZE, 2);
        h.bar0Write(DeviceRegisters.DMA_CONTROL, 1);
        h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        assertEquals(1, h.dev.dma().runPending(new TestMemory(RAM, 4096), NO_LOCK));
    }

    @Test
    void workerHoldsNoDeviceLockWhileGuestMemoryBlocks() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        DeviceLock deviceLock = action -> {
            lock.lock();
            try {
                action.run();
            } finally {
                lock.unlock();
            }
        };
        CountDownLatch inMemory = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        GuestMemory slow = new GuestMemory() {
            @Override
            public void read(long address, ByteBuffer dst) throws GuestMemoryException {
                inMemory.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new GuestMemoryException("interrupted", e);
                }
                mem.read(address, dst);
            }

            @Override
            public void write(long address, ByteBuffer src) throws GuestMemoryException {
                mem.write(address, src);
            }
        };
        Harness.Target t = new Harness.Target("v0");
        int[] done = new int[1];
        deviceLock.run(() -> {
            h.msixControl(true, false);
            h.assign(0, t);
            ring(RING, 4);
            descriptor(0, SRC, DST, 16, flags(IRQ_MSIX, 0), RECORDS);
            h.bar0Write(DeviceRegisters.DMA_TAIL, 1);
        });
        Thread worker = Thread.ofPlatform().start(() -> done[0] = h.dev.dma().runPending(slow, deviceLock));
        assertTrue(inMemory.await(10, TimeUnit.SECONDS));
        assertTrue(lock.tryLock(10, TimeUnit.SECONDS), "device lock is free while the worker waits on memory");
        try {
            assertEquals(0, h.dev.dma().runPending(slow, deviceLock), "a second worker backs off");
            h.bar0Write(DeviceRegisters.SCRATCH, 5);
        } finally {
            lock.unlock();
        }
        release.countDown();
        worker.join(10_000);
        assertEquals(1, done[0]);
        deviceLock.run(() -> assertEquals(1, t.triggers));
    }
}
