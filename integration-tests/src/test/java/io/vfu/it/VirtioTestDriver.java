package io.vfu.it;

import io.vfu.testkit.DeviceClient;
import io.vfu.testkit.GuestRam;
import io.vfu.transport.nativeio.EventFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * What a virtio driver does with a modern PCI device, done over vfio-user from a test: finds the structures
 * through the vendor capabilities (virtio 1.2, 4.1.4), negotiates features, sets up split rings in guest memory
 * the test can also corrupt, and kicks queues. The test plays a hostile driver where it wants.
 */
final class VirtioTestDriver {

    static final int ACKNOWLEDGE = 1;
    static final int DRIVER = 2;
    static final int DRIVER_OK = 4;
    static final int FEATURES_OK = 8;
    static final int NEEDS_RESET = 0x40;

    final DeviceClient c;
    /** cfg_type to {bar, offset, length, multiplier}. */
    final Map<Integer, long[]> structures = new HashMap<>();

    private VirtioTestDriver(DeviceClient c) {
        this.c = c;
    }

    /** Walks the capability chain for virtio_pci_cap entries (vendor-specific, ID 0x09). */
    static VirtioTestDriver probe(DeviceClient c) throws Exception {
        VirtioTestDriver d = new VirtioTestDriver(c);
        int at = (int) c.read(DeviceClient.CONFIG, 0x34, 1);
        for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
            long header = c.read(DeviceClient.CONFIG, at, 4);
            if ((header & 0xFF) == 0x09) {
                int cfgType = (int) (header >>> 24) & 0xFF;
                int capLen = (int) (header >>> 16) & 0xFF;
                d.structures.putIfAbsent(cfgType, new long[] {
                        c.read(DeviceClient.CONFIG, at + 4, 1), c.read(DeviceClient.CONFIG, at + 8, 4),
                        c.read(DeviceClient.CONFIG, at + 12, 4),
                        capLen >= 20 ? c.read(DeviceClient.CONFIG, at + 16, 4) : 0});
            }
            at = (int) (header >>> 8) & 0xFC;
        }
        return d;
    }

    long common(int offset, int width) throws Exception {
        long[] s = structures.get(1);
        return c.read((int) s[0], s[1] + offset, width);
    }

    void common(int offset, int width, long value) throws Exception {
        long[] s = structures.get(1);
        c.write((int) s[0], s[1] + offset, width, value);
    }

    long deviceConfig(int offset, int width) throws Exception {
        long[] s = structures.get(4);
        return c.read((int) s[0], s[1] + offset, width);
    }

    long offeredFeatures() throws Exception {
        common(0x00, 4, 0);
        long low = common(0x04, 4);
        common(0x00, 4, 1);
        return low | common(0x04, 4) << 32;
    }

    int status() throws Exception {
        return (int) common(0x14, 1);
    }

    /** Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
    int negotiate(long features) throws Exception {
        common(0x14, 1, 0);
        common(0x14, 1, ACKNOWLEDGE);
        common(0x14, 1, ACKNOWLEDGE | DRIVER);
        common(0x08, 4, 0);
        common(0x0C, 4, features & 0xFFFF_FFFFL);
        common(0x08, 4, 1);
        common(0x0C, 4, features >>> 32);
        common(0x14, 1, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        return status();
    }

    /** Configuration changes on MSI-X vector 0 (read back: NO_VECTOR if the device refused it), then DRIVER_OK. */
    void driverOk() throws Exception {
        common(0x10, 2, 0);
        if (common(0x10, 2) != 0) {
            throw new IllegalStateException("the device refused MSI-X vector 0 for configuration changes");
        }
        common(0x14, 1, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    }

    /** Sets up queue {@code q} of {@code size} entries at guest address {@code base}, MSI-X vector q + 1. */
    Ring queue(GuestRam ram, int q, int size, long base) throws Exception {
        common(0x16, 2, q);
        common(0x18, 2, size);
        Ring r = new Ring(ram, q, size, base);
        common(0x20, 4, r.desc & 0xFFFF_FFFFL);
        common(0x24, 4, r.desc >>> 32);
        common(0x28, 4, r.avail & 0xFFFF_FFFFL);
        common(0x2C, 4, r.avail >>> 32);
        common(0x30, 4, r.used & 0xFFFF_FFFFL);
        common(0x34, 4, r.used >>> 32);
        common(0x1A, 2, q + 1);
        common(0x1C, 2, 1);
        return r;
    }

    void kick(int q) throws Exception {
        long[] s = structures.get(2);
        c.write((int) s[0], s[1] + q * s[3], 2, q);
    }

    /** MSI-X on, vector 0 (configuration) and one per queue with eventfds. */
    EventFd[] interrupts(int queues) throws Exception {
        c.enableBusMaster();
        c.enableMsix();
        EventFd[] fds = new EventFd[queues + 1];
        for (int v = 0; v <= queues; v++) {
            fds[v] = c.assignMsix(v);
        }
        return fds;
    }

    /** A split ring in guest memory the test writes directly (virtio 1.2, 2.7). */
    static final class Ring {
        final GuestRam ram;
        final int index;
        final int size;
        final long desc;
        final long avail;
        final long used;
        int availIdx;

        Ring(GuestRam ram, int index, int size, long base) {
            this.ram = ram;
            this.index = index;
            this.size = size;
            this.desc = base;
            this.avail = desc + 16L * size;
            this.used = (avail + 6 + 2L * size + 3) & ~3L;
        }

        MemorySegment mem() {
            return ram.memory();
        }

        long at(long iova) {
            return iova - ram.iova();
        }

        void desc(int i, long addr, int len, int flags, int next) {
            long o = at(desc + 16L * i);
            mem().set(ValueLayout.JAVA_LONG_UNALIGNED, o, addr);
            mem().set(ValueLayout.JAVA_INT_UNALIGNED, o + 8, len);
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 12, (short) flags);
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 14, (short) next);
        }

        /** Descriptor in an indirect table at guest address {@code table}. */
        void indirect(long table, int i, long addr, int len, int flags, int next) {
            long o = at(table + 16L * i);
            mem().set(ValueLayout.JAVA_LONG_UNALIGNED, o, addr);
            mem().set(ValueLayout.JAVA_INT_UNALIGNED, o + 8, len);
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 12, (short) flags);
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 14, (short) next);
        }

        /** Puts {@code head} in the next avail slot and publishes it. */
        void offer(int head) {
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, at(avail + 4 + 2L * (availIdx % size)), (short) head);
            availIdx = (availIdx + 1) & 0xFFFF;
            setAvailIdx(availIdx);
        }

        void setAvailIdx(int idx) {
            mem().set(ValueLayout.JAVA_SHORT_UNALIGNED, at(avail + 2), (short) idx);
        }

        int usedIdx() {
            return mem().get(ValueLayout.JAVA_SHORT_UNALIGNED, at(used + 2)) & 0xFFFF;
        }

        /** (id, len) of used slot {@code slot}. */
        int[] usedElem(int slot) {
            long o = at(used + 4 + 8L * (slot % size));
            return new int[] {mem().get(ValueLayout.JAVA_INT_UNALIGNED, o), mem().get(ValueLayout.JAVA_INT_UNALIGNED, o + 4)};
        }
    }
}
