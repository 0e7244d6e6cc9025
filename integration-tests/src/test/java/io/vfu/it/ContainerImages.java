package io.vfu.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The two local images the container tests run, never pulled: the server image, built now by
 * {@code docker/build-server-image.sh} from the jar the reactor just packaged (its tag is a hash of its inputs,
 * so an unchanged server is not rebuilt), and the QEMU runner image that {@code scripts/provision-docker.sh}
 * built and named in the provisioned {@code env.properties}.
 */
final class ContainerImages {
    /** The server image's user and group (docker/Dockerfile.server); its socket folder belongs to them. */
    static final int SERVER_UID = 10001;
    static final int SERVER_GID = 10001;

    private ContainerImages() {
    }

    /** Builds (or finds) the server image for server/target/vfu-server.jar and returns its name. */
    static String server() throws IOException, InterruptedException {
        Path top = Path.of("..").toAbsolutePath().normalize();
        ProcessResult built = ProcessResult.run(List.of(top.resolve("docker/build-server-image.sh").toString(),
                top.resolve("server/target/vfu-server.jar").toString()), Duration.ofMinutes(5));
        if (built.exitCode() != 0) {
            throw new IllegalStateException("building the server image failed:\n" + built.stderr());
        }
        return built.stdout().strip();
    }

    /** The provisioned QEMU 11 runner image. */
    static String qemu(Provisioned p) throws IOException {
        Properties env = new Properties();
        try (InputStream in = Files.newInputStream(p.cache().resolve("env.properties"))) {
            env.load(in);
        }
        String image = env.getProperty("docker.qemu.image");
        if (image == null) {
            throw new IllegalStateException("no docker.qemu.image in " + p.cache().resolve("env.properties")
                    + ": run scripts/provision.sh");
        }
        return image;
    }
}
