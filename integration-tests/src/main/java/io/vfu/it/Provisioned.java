package io.vfu.it;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * What {@code scripts/provision.sh} installed, read from {@code $VFU_CACHE/env.properties}.
 *
 * <p>The cache folder is the system property {@code vfu.cache}, else the environment variable {@code VFU_CACHE},
 * else {@code /var/cache/vfu-java}. A missing or incomplete file is an error, never a reason to skip a test:
 * {@link #load()} throws {@link IllegalStateException} naming the file and the command that provides it.
 *
 * @param cache the cache folder
 * @param qemuBinary an executable that runs QEMU 11 (a wrapper that takes the usual QEMU arguments)
 * @param qemuVersion the upstream version QEMU reports, e.g. {@code 11.1.3}
 * @param prometheusBinary the Prometheus server executable
 * @param prometheusVersion the Prometheus package version, e.g. {@code 2.42.0+ds}
 * @param guestKernel a Debian 6.12 kernel image for {@code -kernel}
 * @param guestKernelRelease its release, e.g. {@code 6.12.117+deb13-amd64}
 * @param guestInitramfs the base busybox initramfs (see {@link Initramfs})
 */
public record Provisioned(Path cache, Path qemuBinary, String qemuVersion, Path prometheusBinary,
                          String prometheusVersion, Path guestKernel, String guestKernelRelease,
                          Path guestInitramfs) {

    /** The default cache folder, as in {@code scripts/provision.sh}. */
    public static final Path DEFAULT_CACHE = Path.of("/var/cache/vfu-java");

    private static final String HINT = "run scripts/provision.sh as root (bin/vfu-test does this first)";

    /** Reads the env file of the configured cache folder and checks each executable it names exists. */
    public static Provisioned load() {
        return load(configuredCache());
    }

    /** Reads {@code env.properties} in {@code cache}. */
    public static Provisioned load(Path cache) {
        Path file = cache.resolve("env.properties");
        if (!Files.isReadable(file)) {
            throw new IllegalStateException("QEMU 11, Prometheus and the guest are not provisioned: " + file
                    + " is missing; " + HINT);
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + "; " + HINT, e);
        }
        return new Provisioned(cache,
                executable(p, file, "qemu.binary"), required(p, file, "qemu.version"),
                executable(p, file, "prometheus.binary"), required(p, file, "prometheus.version"),
                readable(p, file, "guest.kernel"), required(p, file, "guest.kernel.release"),
                readable(p, file, "guest.initramfs"));
    }

    /** The cache folder named by {@code -Dvfu.cache}, {@code $VFU_CACHE} or the default. */
    public static Path configuredCache() {
        String prop = System.getProperty("vfu.cache");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("VFU_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : DEFAULT_CACHE;
    }

    private static String required(Properties p, Path file, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(file + " has no '" + key + "'; " + HINT);
        }
        return v.strip();
    }

    private static Path readable(Properties p, Path file, String key) {
        Path path = Path.of(required(p, file, key));
        if (!Files.isReadable(path)) {
            throw new IllegalStateException(key + " " + path + " named in " + file + " is missing; " + HINT);
        }
        return path;
    }

    private static Path executable(Properties p, Path file, String key) {
        Path path = Path.of(required(p, file, key));
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException(key + " " + path + " named in " + file + " is not executable; " + HINT);
        }
        return path;
    }
}
