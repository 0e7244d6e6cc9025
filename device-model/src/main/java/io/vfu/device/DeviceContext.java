package io.vfu.device;

import java.time.InstantSource;

/**
 * What the server lends a device when it creates it: posted writes to guest memory, a worker for background
 * work, a clock and a logger. The device keeps it for its lifetime.
 */
public interface DeviceContext {

    /** The device's name in the configuration (metric tag, log prefix). */
    String name();

    /**
     * Posted 32-bit writes to guest bus addresses (an IMS entry or an MSI-X entry without a vfio target fires this
     * way; QEMU turns a write to 0xFEEx_xxxx into an MSI). Never blocks; callable under the device lock.
     */
    MessageSink postedWrites();

    /**
     * Asks for {@link VfioDevice#work} to run on the device's worker. Only schedules (callable under the device
     * lock); a request while work is pending or running is merged into it. Work waits while no client is
     * attached and runs once one is.
     */
    void requestWork();

    /**
     * Memory the client may map into the guest for region {@code region} (its mmap areas, see
     * {@link RegionInfo#mmapAreas()}): region offsets {@code [0, size)}, zeroed, shared with the client (a memfd
     * the server passes with the region's info; byte {@code n} of the segment is byte {@code n} of the region,
     * as the spec's one fd per region requires). {@code size} must reach the end of the last mmap area. The guest reads and writes the mapped areas with no
     * message, so the device reads what the guest wrote, and publishes what the guest should read, here; for
     * values wider than a byte it uses atomic or ordered accesses as the guest would see a real device's. Call
     * it once per region, when the device is created; the memory lives as long as the device.
     *
     * @throws UnsupportedOperationException where the host cannot share memory
     * @throws IllegalArgumentException      for a size that is not positive or a region asked twice
     */
    default java.lang.foreign.MemorySegment sharedMemory(int region, long size) {
        throw new UnsupportedOperationException("this host shares no memory with clients");
    }

    /** Metrics of this device, exported with the server's (default: none). */
    default DeviceMeters meters() {
        return DeviceMeters.NONE;
    }

    /** The clock the device should use for time (tests may give a fixed one). */
    default InstantSource clock() {
        return InstantSource.system();
    }

    /** A logger for the device. */
    default System.Logger logger() {
        return System.getLogger("io.vfu.device." + name());
    }
}
