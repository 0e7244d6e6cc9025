package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The provisioned QEMU is version 11 and has the vfio-user client device the whole project relies on. */
class ProvisionedQemuTest {
    private final Provisioned provisioned = Provisioned.load();

    private ProcessResult qemu(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(provisioned.qemuBinary().toString());
        cmd.addAll(List.of(args));
        ProcessResult r = ProcessResult.run(cmd, Duration.ofSeconds(30));
        assertEquals(0, r.exitCode(), () -> cmd + " failed:\n" + r.stderr());
        return r;
    }

    @Test
    void versionIsElevenAndMatchesTheEnvFile() throws Exception {
        Matcher m = Pattern.compile("^QEMU emulator version (\\d+)\\.(\\d+)\\.(\\d+)").matcher(qemu("-version").stdout());
        assertTrue(m.find(), "no version line");
        assertEquals("11", m.group(1), "QEMU major version");
        assertEquals(provisioned.qemuVersion(), m.group(1) + "." + m.group(2) + "." + m.group(3));
    }

    @Test
    void vfioUserPciIsAPciDevice() throws Exception {
        assertTrue(qemu("-device", "help").stdout().contains("name \"vfio-user-pci\", bus PCI"),
                "-device help does not list vfio-user-pci");
    }

    @Test
    void vfioUserPciTakesAUnixSocketAndAMessageTimeout() throws Exception {
        String props = qemu("-device", "vfio-user-pci,help").stdout();
        assertTrue(props.contains("socket=<SocketAddress>"), props);
        assertTrue(props.contains("x-msg-timeout=<uint32>"), props);
    }
}
