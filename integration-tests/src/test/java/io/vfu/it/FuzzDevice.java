package io.vfu.it;

import java.util.List;

/**
 * One device of the abuse test's {@code --config} file.
 *
 * @param name   its name (and the {@code device} tag of its metrics)
 * @param id     what config dword 0 reads: vendor ID | device ID << 16
 * @param vector the MSI-X vector a {@link GoodClient} uses on it
 * @param json   its entry in the config file, with {@code %s} for the socket path
 */
record FuzzDevice(String name, long id, int vector, String json) {

    /**
     * Three devices with their own layouts: the default, one with 64 MSI-X vectors, 256 IMS entries and a budget of
     * 128, and a third default one with another device ID. The first is the one the well-behaved client holds.
     */
    static final List<FuzzDevice> ALL = List.of(
            new FuzzDevice("dev0", 0x0001_1b5aL, 5, "{\"name\": \"dev0\", \"socket\": \"%s\"}"),
            new FuzzDevice("dev1", 0x0002_1b5aL, 7, "{\"name\": \"dev1\", \"socket\": \"%s\", \"deviceId\": "
                    + "\"0x0002\", \"msixVectors\": 64, \"imsEntries\": 256, \"vectorBudget\": 128}"),
            new FuzzDevice("dev2", 0x0003_1b5aL, 9, "{\"name\": \"dev2\", \"socket\": \"%s\", \"deviceId\": "
                    + "\"0x0003\"}"));
}
