package io.vfu.device.bench;

import io.vfu.device.memmove.DeviceConfig;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqIndex;
import io.vfu.device.IrqTarget;
import io.vfu.device.memmove.MemmoveImsDevice;
import io.vfu.device.RegionIndex;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Cost per operation of the interrupt paths, through the public API the server calls (region writes and
 * SET_IRQS). Run (see device-model/LAYOUT.md "Benchmark"):
 * <pre>
 * mvn -B -pl device-model -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt \
 *     -Dmdep.includeScope=test
 * java -cp device-model/target/test-classes:device-model/target/classes:$(cat device-model/target/cp.txt) \
 *     org.openjdk.jmh.Main InterruptBench -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 * {@code append} adds vector {@code vector} (with {@code vector} others already holding targets) and de-assigns
 * it again, so each invocation starts from the same state; it is the cost of an append plus a de-assign.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class InterruptBench {

    private static final int DOORBELL_MSIX = 0x040;
    private static final int MSIX_CONTROL = 0x50;

    @Param({"0", "2047"})
    public int vector;

    private MemmoveImsDevice dev;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
    private long delivered;
    private IrqData.Targets appendData;
    private IrqData.Targets deassignData;

    @Setup
    public void setup() {
        dev = new MemmoveImsDevice(DeviceConfig.defaults(), (a, d) -> delivered++, () -> { });
        write(RegionIndex.CONFIG, MSIX_CONTROL, 0x8000_07FF); // MSI-X Enable
        IrqTarget t = () -> delivered++;
        // Every vector below `vector` holds a target; `vector` itself is free for the append benchmark.
        for (int v = 0; v < vector; v++) {
            dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, v, 1, new IrqData.Targets(List.of(t)));
        }
        appendData = new IrqData.Targets(List.of(t));
        deassignData = new IrqData.Targets(List.of());
        // Vector 1 is the subject of signal/mask/unmask: give it a target when it is free.
        if (vector <= 1) {
            dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, 1, 1, appendData);
        }
    }

    private void write(int region, long offset, int value) {
        buf.clear().putInt(0, value);
        dev.write(region, offset, buf);
    }

    /** Doorbell to an unmasked vector with a target: decode + deliver. */
    @Benchmark
    public long signal() {
        write(RegionIndex.BAR0, DOORBELL_MSIX, 1);
        return delivered;
    }

    /** Guest masks entry 1 (idempotent): BAR2 write through the funnel. */
    @Benchmark
    public void mask() {
        write(RegionIndex.BAR2, 16 + 12, 1);
    }

    /** Guest unmasks entry 1 (idempotent, nothing pending). */
    @Benchmark
    public void unmask() {
        write(RegionIndex.BAR2, 16 + 12, 0);
    }

    /** Mask, signal (latches pending), unmask (re-reads and delivers): the full masked cycle. */
    @Benchmark
    public long maskSignalUnmask() {
        write(RegionIndex.BAR2, 16 + 12, 1);
        write(RegionIndex.BAR0, DOORBELL_MSIX, 1);
        write(RegionIndex.BAR2, 16 + 12, 0);
        return delivered;
    }

    /** SET_IRQS append of vector {@code vector} and its de-assign. */
    @Benchmark
    public void append(Blackhole bh) {
        bh.consume(dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, vector, 1, appendData));
        bh.consume(dev.setIrqs(IrqIndex.MSIX, IrqAction.TRIGGER, vector, 1, deassignData));
    }
}
