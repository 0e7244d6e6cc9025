package io.vfu.device;

/**
 * How {@link DmaEngine#runPending} re-enters the device under the server's device lock: {@code run} must
 * execute {@code action} synchronously while holding the lock that guards every other call into
 * {@link PciFunction}, and return after it.
 */
@FunctionalInterface
public interface DeviceLock {

    void run(Runnable action);
}
