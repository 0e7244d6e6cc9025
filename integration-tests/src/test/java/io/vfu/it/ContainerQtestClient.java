package io.vfu.it;

import com.github.dockerjava.api.model.Bind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * QEMU 11 from the runner image as a client in a container of its own: it runs as the given {@code --user}
 * (and {@code --group-add} groups), with no network, the server's socket volume mounted at /run/vfu, and attaches
 * the device there in qtest mode exactly as the top-level README's "Attaching QEMU" command does: it reads the
 * vendor/device ID dword through config space and resets the machine, which {@code -no-reboot} turns into an
 * exit.
 */
final class ContainerQtestClient {
    /** What QEMU printed (stdout and stderr) and its exit status. */
    record Outcome(int exit, String output) {
        /** The qtest answer to the ID read, e.g. {@code 0x11b5a}, or null when QEMU never got that far. */
        String idDword() {
            Matcher m = Pattern.compile("(?m)^OK (0x[0-9a-f]+)$").matcher(output);
            return m.find() ? m.group(1) : null;
        }
    }

    private static final String QTEST = "outl 0xcf8 0x80000800\\ninl 0xcfc\\noutb 0xcf9 0x6\\n";
    private static final Pattern EXIT = Pattern.compile("(?m)^qemu-exit=(\\d+)$");

    private ContainerQtestClient() {
    }

    /**
     * Runs QEMU once as {@code user} ("uid:gid") with supplementary {@code groups} against
     * {@code /run/vfu/<socket>} on volume {@code volume}.
     */
    static Outcome attach(String image, String volume, String socket, String user, List<String> groups) {
        String device = "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"/run/vfu/" + socket
                + "\",\"type\":\"unix\"}}";
        // The shell reports QEMU's status as a line, so a refused QEMU is an outcome, not a failed container.
        String script = "printf '" + QTEST + "' | qemu-system-x86_64 -machine q35,memory-backend=mem"
                + " -object memory-backend-memfd,id=mem,size=512M,share=on -m 512 -no-reboot"
                + " -accel qtest -qtest stdio -qtest-log none -display none -nodefaults -monitor none"
                + " -device '" + device + "' 2>&1; echo qemu-exit=$?";
        try (GenericContainer<?> qemu = new GenericContainer<>(DockerImageName.parse(image))
                .withImagePullPolicy(name -> false)
                .withNetworkMode("none")
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withEntrypoint("bash").withUser(user);
                    cmd.getHostConfig().withBinds(Bind.parse(volume + ":/run/vfu"))
                            .withGroupAdd(new ArrayList<>(groups));
                })
                .withCommand("-c", script)
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(2)))) {
            qemu.start();
            String text = qemu.getLogs();
            Matcher m = EXIT.matcher(text);
            if (!m.find()) {
                throw new AssertionError("QEMU's container ended without a status line:\n" + text);
            }
            return new Outcome(Integer.parseInt(m.group(1)), text.substring(0, m.start()).strip());
        }
    }
}
