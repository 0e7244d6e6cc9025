package io.vfu.device;

/**
 * How {@link VfioDevice#work} re-enters the device under the server's device lock: {@code run} must execute
 * {@code action} synchronously while holding the lock that guards every other call into the {@link VfioDevice},
 * and return after it.
 */
@FunctionalInterface
public interface DeviceLock {

    void run(Runnable action);
}
