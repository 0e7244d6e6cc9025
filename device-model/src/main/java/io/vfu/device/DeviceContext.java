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

    /** The clock the device should use for time (tests may give a fixed one). */
    default InstantSource clock() {
        return InstantSource.system();
    }

    /** A logger for the device. */
    default System.Logger logger() {
        return System.getLogger("io.vfu.device." + name());
    }
}
