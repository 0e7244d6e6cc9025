package io.vfu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfu.server.VfuServer;
import io.vfu.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fresh in-process server plus one QEMU 11 qtest machine attached to it, with the device's BARs assigned and
 * Memory Space + Bus Master set (no firmware runs under qtest). Every test builds its own.
 */
final class VfuRig implements AutoCloseable {
    static final int VENDOR = 0x1b5a;
    static final int DEVICE = 0x0001;
    static final PciAddress SLOT = new PciAddress(0, 1, 0);
    static final Duration WAIT = Duration.ofSeconds(10);
    /** The trace line QEMU prints for each interrupt the local APIC accepts. */
    static final Pattern APIC = Pattern.compile("apic_deliver_irq .*vector (\\d+) ");

    final Provisioned provisioned = Provisioned.load();
    final Path socket;
    final VfuServer server;
    QtestSession qemu;
    PciConfig cfg;
    List<PciBars.Bar> bars;
    long bar0;
    long bar2;
    long bar4;

    private VfuRig(Path socket, VfuServer server) {
        this.socket = socket;
        this.server = server;
    }

    /** A server serving {@code config} (metrics on an ephemeral loopback port); QEMU is not started yet. */
    static VfuRig server(ServerConfig config) {
        Path socket = config.devices().getFirst().socket();
        try {
            return new VfuRig(socket, VfuServer.start(config, Optional.of(0), "127.0.0.1"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A rig around a server the test started itself (an embedded one with its own device on {@code socket}). */
    static VfuRig around(VfuServer server, Path socket) {
        return new VfuRig(socket, server);
    }

    /** The default device on {@code dir/vfu.sock}, and QEMU attached with {@code customize} applied. */
    static VfuRig start(Path dir, UnaryOperator<QemuArgs> customize) {
        VfuRig rig = server(ServerConfig.single(dir.resolve("vfu.sock")));
        try {
            rig.attach(customize);
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    /** QEMU arguments with our device and the interrupt trace. */
    QemuArgs args() {
        return QemuArgs.qtest(provisioned).vfioUserDevice(socket).trace("apic_deliver_irq");
    }

    /** Starts QEMU (replacing any earlier one) and assigns the BARs. */
    void attach(UnaryOperator<QemuArgs> customize) {
        if (qemu != null) {
            qemu.close();
        }
        qemu = QtestSession.start(customize.apply(args()));
        cfg = new PciConfig(qemu);
        assignBars();
    }

    void assignBars() {
        bars = new PciBars(cfg).assign(SLOT);
        bar0 = PciBars.byIndex(bars, 0).orElseThrow().address();
        bar2 = PciBars.byIndex(bars, 2).orElseThrow().address();
        bar4 = PciBars.byIndex(bars, 4).map(PciBars.Bar::address).orElse(-1L); // a device may have no BAR4
    }

    Scrape scrape() {
        return Scrape.parse(server.registry().scrape());
    }

    /** Sets MSI-X Enable in Message Control (capability at 0x50) and clears Function Mask. */
    void enableMsix() {
        int control = cfg.read16(SLOT, 0x52);
        cfg.write16(SLOT, 0x52, (control | 0x8000) & ~0x4000);
    }

    /** Programs MSI-X table entry {@code n} in QEMU's emulated table: APIC 0, {@code vector}, unmasked. */
    void programMsix(int n, int vector) {
        long e = bar2 + 16L * n;
        qemu.writel(e, 0xfee0_0000L);
        qemu.writel(e + 4, 0);
        qemu.writel(e + 8, vector);
        qemu.writel(e + 12, 0);
    }

    /** Programs IMS entry {@code n}: APIC 0, {@code vector}, with the given mask bit. */
    void programIms(int n, int vector, boolean masked) {
        long e = bar4 + 16L * n;
        qemu.writel(e, 0xfee0_0000L);
        qemu.writel(e + 4, 0);
        qemu.writel(e + 8, vector);
        qemu.writel(e + 12, masked ? 1 : 0);
    }

    /** Index of the next stderr line: pass it to {@link #awaitVector} to wait only for what follows. */
    int mark() {
        return qemu.stderr().size();
    }

    /**
     * Waits for an APIC delivery at or after {@code from} and returns its vector. Vectors below 16 are not
     * MSI vectors (QEMU logs vector 0 while it resets the machine at start-up, and that line may reach us late),
     * so they are skipped.
     */
    int awaitVector(int from) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int i = from;
        while (true) {
            long left = deadline - System.nanoTime();
            OutputLog.Line line;
            try {
                line = qemu.stderr().await(APIC, i, Duration.ofNanos(Math.max(1, left))).orElse(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            if (line == null) {
                throw new AssertionError("no MSI reached the APIC within " + WAIT + "; QEMU stderr:\n"
                        + qemu.stderr().tail(30));
            }
            Matcher m = APIC.matcher(line.text());
            if (m.find() && Integer.parseInt(m.group(1)) >= 16) {
                return Integer.parseInt(m.group(1));
            }
            i = line.index() + 1;
        }
    }

    /** Every MSI vector (16 and up) delivered to the APIC at or after stderr line {@code from}, in order. */
    List<Integer> vectorsSince(int from) {
        List<String> lines = qemu.stderr().lines();
        return lines.subList(Math.min(from, lines.size()), lines.size()).stream()
                .map(APIC::matcher).filter(Matcher::find).map(m -> Integer.parseInt(m.group(1)))
                .filter(v -> v >= 16).toList();
    }

    /**
     * A synchronous round trip through the device: BAR writes are posted, so reading a register makes sure
     * every earlier write has reached the server.
     */
    long sync() {
        return qemu.readl(bar0);
    }

    void assertId() {
        assertEquals(0x3155_4656L, qemu.readl(bar0), "BAR0 ID register reads \"VFU1\"");
    }

    @Override
    public void close() {
        try {
            if (qemu != null) {
                qemu.close();
            }
        } finally {
            server.close();
        }
    }
}
