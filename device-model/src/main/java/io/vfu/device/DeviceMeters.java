package io.vfu.device;

import java.util.function.DoubleSupplier;

/**
 * Metrics a device exports next to the server's own: every series is named {@code vfu_device_<name>} and
 * tagged with the device's name, so a fleet's dashboards find them beside the transport and interrupt metrics.
 * Names are lower-case letters, digits and underscores. Counting costs no allocation.
 */
public interface DeviceMeters {

    /** A monotonic counter. */
    interface Counter {
        /** Adds one. */
        void increment();

        /** Adds {@code amount} (not negative). */
        void add(long amount);
    }

    /** Meters that go nowhere (a host without metrics, tests). */
    DeviceMeters NONE = new DeviceMeters() {
        @Override
        public Counter counter(String name, String description) {
            check(name);
            return new Counter() {
                @Override
                public void increment() {
                }

                @Override
                public void add(long amount) {
                }
            };
        }

        @Override
        public void gauge(String name, String description, DoubleSupplier value) {
            check(name);
        }
    };

    /** The counter {@code vfu_device_<name>_total}; the same name gives the same counter. */
    Counter counter(String name, String description);

    /** The gauge {@code vfu_device_<name>}, read from {@code value} at scrape time (from any thread). */
    void gauge(String name, String description, DoubleSupplier value);

    /**
     * Checks a meter name.
     *
     * @throws IllegalArgumentException unless it is 1-64 of {@code [a-z0-9_]}, starting with a letter
     */
    static String check(String name) {
        if (name == null || !name.matches("[a-z][a-z0-9_]{0,63}")) {
            throw new IllegalArgumentException("meter names are 1-64 of [a-z0-9_], starting with a letter: " + name);
        }
        return name;
    }
}
