package io.vfu.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Sizes and assigns a type-0 function's BARs. Under qtest no firmware runs, so every BAR reads 0 and
 * COMMAND has memory and I/O decoding off until the test assigns addresses itself.
 *
 * <p>Memory BARs go into the q35 window from {@link #MMIO_BASE} (above the MMCONFIG area, below the IOAPIC at
 * 0xfec00000), 64-bit ones too; I/O BARs from {@link #IO_BASE}. Each BAR is aligned to its size.
 */
public final class PciBars {
    /** First address handed to memory BARs. */
    public static final long MMIO_BASE = 0xc000_0000L;
    /** End (exclusive) of the memory BAR window. */
    public static final long MMIO_LIMIT = 0xfec0_0000L;
    /** First port handed to I/O BARs. */
    public static final int IO_BASE = 0xc000;
    private static final int IO_LIMIT = 0x1_0000;

    /** The kind of a BAR as its low bits encode it. */
    public enum Kind { IO, MEMORY32, MEMORY64 }

    /**
     * One implemented BAR.
     *
     * @param index 0..5 (a 64-bit BAR also occupies index + 1)
     * @param size a power of two
     * @param address the assigned address, or 0 when only sized
     */
    public record Bar(int index, Kind kind, boolean prefetchable, long size, long address) {
        Bar at(long newAddress) {
            return new Bar(index, kind, prefetchable, size, newAddress);
        }
    }

    private final PciConfig config;

    public PciBars(PciConfig config) {
        this.config = config;
    }

    /** Sizes every implemented BAR of {@code f} with decoding switched off, restoring COMMAND and the BARs. */
    public List<Bar> size(PciAddress f) {
        int command = config.read16(f, PciConfig.COMMAND);
        config.write16(f, PciConfig.COMMAND, command & ~(PciConfig.COMMAND_IO | PciConfig.COMMAND_MEMORY));
        List<Bar> bars = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int reg = PciConfig.BAR0 + 4 * i;
            long original = config.read32(f, reg);
            config.write32(f, reg, 0xffff_ffffL);
            long probe = config.read32(f, reg);
            config.write32(f, reg, original);
            if (probe == 0) {
                continue;
            }
            if ((probe & 1) != 0) {
                long mask = probe & 0xffff_fffcL | 0xffff_0000L;
                bars.add(new Bar(i, Kind.IO, false, (~mask + 1) & 0xffff_ffffL, 0));
                continue;
            }
            boolean is64 = ((probe >>> 1) & 3) == 2;
            boolean prefetch = (probe & 8) != 0;
            long mask = probe & 0xffff_fff0L;
            if (is64) {
                if (i == 5) {
                    throw new IllegalStateException(f + " BAR5 claims 64 bits");
                }
                int hi = reg + 4;
                long originalHi = config.read32(f, hi);
                config.write32(f, hi, 0xffff_ffffL);
                mask |= config.read32(f, hi) << 32;
                config.write32(f, hi, originalHi);
            } else {
                mask |= 0xffff_ffff_0000_0000L;
            }
            bars.add(new Bar(i, is64 ? Kind.MEMORY64 : Kind.MEMORY32, prefetch, -mask, 0));
            if (is64) {
                i++;
            }
        }
        config.write16(f, PciConfig.COMMAND, command);
        return List.copyOf(bars);
    }

    /**
     * Sizes and assigns every BAR of {@code f}, largest first so alignment wastes nothing, then sets COMMAND
     * to decode memory (and I/O if any I/O BAR exists) and to master the bus (QEMU drops a device's DMA and
     * MSI-X while Bus Master is off).
     *
     * @return the BARs with their addresses, by index
     */
    public List<Bar> assign(PciAddress f) {
        return assign(f, MMIO_BASE);
    }

    /**
     * Like {@link #assign(PciAddress)} with memory BARs placed from {@code mmioBase}, so several functions can
     * be given disjoint windows (e.g. {@code MMIO_BASE + 0x0100_0000} for a second one).
     */
    public List<Bar> assign(PciAddress f, long mmioBase) {
        if (mmioBase < MMIO_BASE || mmioBase >= MMIO_LIMIT) {
            throw new IllegalArgumentException("memory BARs go between 0x" + Long.toHexString(MMIO_BASE) + " and 0x"
                    + Long.toHexString(MMIO_LIMIT) + ", not 0x" + Long.toHexString(mmioBase));
        }
        List<Bar> sized = new ArrayList<>(size(f));
        sized.sort((a, b) -> Long.compareUnsigned(b.size(), a.size()));
        long mmio = mmioBase;
        long io = IO_BASE;
        List<Bar> placed = new ArrayList<>();
        for (Bar bar : sized) {
            boolean isIo = bar.kind() == Kind.IO;
            long next = alignUp(isIo ? io : mmio, bar.size());
            long limit = isIo ? IO_LIMIT : MMIO_LIMIT;
            if (next > limit - bar.size()) {
                throw new IllegalStateException(f + " BAR" + bar.index() + " of size 0x"
                        + Long.toHexString(bar.size()) + " does not fit below 0x" + Long.toHexString(limit));
            }
            int reg = PciConfig.BAR0 + 4 * bar.index();
            config.write32(f, reg, next & 0xffff_ffffL);
            if (bar.kind() == Kind.MEMORY64) {
                config.write32(f, reg + 4, next >>> 32);
            }
            placed.add(bar.at(next));
            if (isIo) {
                io = next + bar.size();
            } else {
                mmio = next + bar.size();
            }
        }
        int command = config.read16(f, PciConfig.COMMAND) | PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER;
        if (placed.stream().anyMatch(b -> b.kind() == Kind.IO)) {
            command |= PciConfig.COMMAND_IO;
        }
        config.write16(f, PciConfig.COMMAND, command);
        placed.sort((a, b) -> Integer.compare(a.index(), b.index()));
        return List.copyOf(placed);
    }

    /** The BAR with this index from a list returned by {@link #size} or {@link #assign}. */
    public static Optional<Bar> byIndex(List<Bar> bars, int index) {
        return bars.stream().filter(b -> b.index() == index).findFirst();
    }

    private static long alignUp(long value, long alignment) {
        return Math.addExact(value, alignment - 1) & -alignment;
    }
}
