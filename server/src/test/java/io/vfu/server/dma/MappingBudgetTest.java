package io.vfu.server.dma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The process's budget of DMA mappings: what it leaves the JVM, and both of its limits. */
class MappingBudgetTest {

    @Test
    void leavesTheJvmAQuarterOfMaxMapCountAndAtLeast16384() {
        assertEquals(65_530 - 16_384, MappingBudget.fromMaxMapCount(65_530), "Linux's default");
        assertEquals(262_144 - 65_536, MappingBudget.fromMaxMapCount(262_144), "a raised limit keeps a quarter");
        assertEquals(0, MappingBudget.fromMaxMapCount(10_000), "a tiny limit leaves nothing for DMA mappings");
    }

    @Test
    void thisMachinesBudgetFollowsItsMaxMapCount() throws Exception {
        long max = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/vm/max_map_count")).get(0).trim());
        assertEquals(MappingBudget.fromMaxMapCount(max), MappingBudget.forThisProcess().limit());
    }

    @Test
    void refusesPastEitherTheCountOrTheAddressSpace() {
        MappingBudget b = new MappingBudget(2);
        assertTrue(b.tryAcquire(4096));
        assertTrue(b.tryAcquire(4096));
        assertFalse(b.tryAcquire(4096), "count spent");
        b.release(4096);
        assertFalse(b.tryAcquire(MappingBudget.ADDRESS_SPACE), "address space: 4 KiB is still held");
        assertTrue(b.tryAcquire(MappingBudget.ADDRESS_SPACE - 4096));
        assertEquals(2, b.used());
        b.release(4096);
        b.release(MappingBudget.ADDRESS_SPACE - 4096);
        assertEquals(0, b.used());
    }
}
