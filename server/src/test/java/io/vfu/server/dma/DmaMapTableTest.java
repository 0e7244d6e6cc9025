package io.vfu.server.dma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.protocol.Errno;
import io.vfu.protocol.MessageException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DmaMapTableTest {

    private static DmaMapping msg(long addr, long size) {
        return new DmaMapping(addr, size, true, true, Optional.empty());
    }

    private static Errno errno(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(MessageException.class, e).errno();
    }

    @Test
    void overlappingMapIsEexistAndAdjacentIsFine() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        t.map(msg(0x10000, 0x1000), () -> { });
        assertEquals(Errno.EEXIST, errno(() -> t.map(msg(0x10fff, 0x1000), () -> { })));
        assertEquals(Errno.EEXIST, errno(() -> t.map(msg(0xf000, 0x1001), () -> { })));
        assertEquals(Errno.EEXIST, errno(() -> t.map(msg(0x0, 0x100000), () -> { })));
        t.map(msg(0x11000, 0x1000), () -> { });
        t.map(msg(0xf000, 0x1000), () -> { });
        assertEquals(3, t.size());
    }

    @Test
    void windowsAtTheTopOfTheAddressSpaceCompareUnsigned() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        t.map(msg(0xFFFF_FFFF_FFFF_F000L, 0x1000), () -> { });
        t.map(msg(0x1000, 0x1000), () -> { });
        assertTrue(t.access(0xFFFF_FFFF_FFFF_FFFCL, 4, false, (s, o) -> { }).isPresent());
        assertEquals(Errno.EFAULT, errno(() -> t.access(0xFFFF_FFFF_FFFF_FFFCL, 8, false, (s, o) -> { })));
        assertThrows(IllegalArgumentException.class, () -> msg(0xFFFF_FFFF_FFFF_F000L, 0x2000));
    }

    @Test
    void accessIsConfinedToOneWindow() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        t.map(msg(0x1000, 0x1000), () -> { });
        t.map(msg(0x2000, 0x1000), () -> { });
        assertTrue(t.access(0x1000, 0x1000, true, (s, o) -> { }).isPresent());
        assertEquals(Errno.EFAULT, errno(() -> t.access(0x1ffc, 8, false, (s, o) -> { })));
        assertEquals(Errno.EFAULT, errno(() -> t.access(0x0, 4, false, (s, o) -> { })));
        assertEquals(Errno.EFAULT, errno(() -> t.access(0x3000, 1, false, (s, o) -> { })));
        assertEquals(Errno.EFAULT, errno(() -> t.access(0x1000, Long.MAX_VALUE, false, (s, o) -> { })));
        assertEquals(Errno.EINVAL, errno(() -> t.access(0x1000, 0, false, (s, o) -> { })));
    }

    @Test
    void windowRemainingReachesTheEndOfTheWindowHoldingTheAddress() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        t.map(msg(0x1000, 0x1000), () -> { });
        t.map(msg(0xFFFF_FFFF_FFFF_F000L, 0x1000), () -> { });
        assertEquals(0x1000, t.windowRemaining(0x1000));
        assertEquals(1, t.windowRemaining(0x1fff));
        assertEquals(0, t.windowRemaining(0x2000));
        assertEquals(0, t.windowRemaining(0xfff));
        assertEquals(4, t.windowRemaining(0xFFFF_FFFF_FFFF_FFFCL));
    }

    @Test
    void permissionsAreEnforced() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        t.map(new DmaMapping(0x1000, 0x1000, true, false, Optional.empty()), () -> { });
        t.map(new DmaMapping(0x2000, 0x1000, false, true, Optional.empty()), () -> { });
        assertEquals(Errno.EPERM, errno(() -> t.access(0x1000, 4, true, (s, o) -> { })));
        assertEquals(Errno.EPERM, errno(() -> t.access(0x2000, 4, false, (s, o) -> { })));
    }

    @Test
    void unmapMustMatchExactlyAndReleasesOnce() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        AtomicInteger released = new AtomicInteger();
        t.map(msg(0x1000, 0x2000), released::incrementAndGet);
        assertEquals(Errno.ENOENT, errno(() -> t.unmap(0x1000, 0x1000)));
        assertEquals(Errno.ENOENT, errno(() -> t.unmap(0x2000, 0x1000)));
        assertEquals(0, released.get());
        t.unmap(0x1000, 0x2000);
        assertEquals(1, released.get());
        assertEquals(Errno.ENOENT, errno(() -> t.unmap(0x1000, 0x2000)));
        assertEquals(1, released.get());
    }

    @Test
    void unmapAllReleasesEveryWindowOnce() throws Exception {
        DmaMapTable t = new DmaMapTable(16);
        AtomicInteger released = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            t.map(msg(0x1000L * (i + 1) * 2, 0x1000), released::incrementAndGet);
        }
        assertEquals(10, t.unmapAll().size());
        assertEquals(10, released.get());
        t.close();
        assertEquals(10, released.get());
        assertEquals(0, t.size());
    }

    @Test
    void mapCountIsLimited() throws Exception {
        DmaMapTable t = new DmaMapTable(2);
        t.map(msg(0x1000, 0x1000), () -> { });
        t.map(msg(0x2000, 0x1000), () -> { });
        assertEquals(Errno.ENOSPC, errno(() -> t.map(msg(0x3000, 0x1000), () -> { })));
    }

    @Test
    void directAccessCopiesAtTheRightOffset() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mem = arena.allocate(0x1000);
            DmaMapTable t = new DmaMapTable(4);
            t.map(new DmaMapping(0x40000, 0x1000, true, true, Optional.of(mem)), () -> { });
            Optional<DmaMapping> viaMessage = t.access(0x40010, 4, true,
                    (seg, off) -> seg.set(ValueLayout.JAVA_INT_UNALIGNED, off, 0xCAFEF00D));
            assertFalse(viaMessage.isPresent());
            assertEquals(0xCAFEF00D, mem.get(ValueLayout.JAVA_INT_UNALIGNED, 0x10));
        }
    }

    @Test
    void unmapWaitsForInFlightDirectDma() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mem = arena.allocate(0x1000);
            DmaMapTable t = new DmaMapTable(4);
            AtomicInteger released = new AtomicInteger();
            t.map(new DmaMapping(0x1000, 0x1000, true, true, Optional.of(mem)), released::incrementAndGet);
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            Thread dma = Thread.ofPlatform().start(() -> {
                try {
                    t.access(0x1000, 8, true, (s, o) -> {
                        inside.countDown();
                        try {
                            finish.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                } catch (MessageException e) {
                    throw new AssertionError(e);
                }
            });
            assertTrue(inside.await(5, TimeUnit.SECONDS));
            Thread unmapper = Thread.ofPlatform().start(() -> {
                try {
                    t.unmap(0x1000, 0x1000);
                } catch (MessageException e) {
                    throw new AssertionError(e);
                }
            });
            unmapper.join(200);
            assertTrue(unmapper.isAlive(), "unmap must wait for the in-flight copy");
            assertEquals(0, released.get());
            finish.countDown();
            unmapper.join(5000);
            dma.join(5000);
            assertEquals(1, released.get());
        }
    }
}
