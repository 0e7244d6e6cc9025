package io.vfu.protocol.bench;

import io.vfu.protocol.Header;
import io.vfu.protocol.Limits;
import io.vfu.protocol.Message;
import io.vfu.protocol.MessageDecoder;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.ProtocolException;
import io.vfu.protocol.RegionRead;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

/**
 * Cost per operation of the codec on the hot paths: a REGION_READ request decoded and its reply encoded (every
 * guest BAR or config read), a REGION_WRITE decoded (every posted write), a DMA_WRITE request encoded (every
 * device write to guest memory without a shared fd, and every IMS message). Run (see BENCH.md):
 * <pre>
 * mvn -B -pl protocol -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt \
 *     -Dmdep.includeScope=test
 * cd protocol && java -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *     org.openjdk.jmh.Main CodecBench -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 * The messages are built by hand from the spec's tables (header: msg_id u16, command u16, size u32, flags u32,
 * error u32; REGION_READ: offset u64, region u32, count u32), not by our encoder.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CodecBench {

    private final Limits limits = Limits.DEFAULT;
    private ByteBuffer readRequest;
    private ByteBuffer writeRequest;
    private ByteBuffer out;
    private int msgId;

    @Setup
    public void setup() {
        // REGION_READ of 4 bytes at config offset 0: header (size 32, flags 0 = command), then the payload.
        readRequest = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        readRequest.putShort((short) 7).putShort((short) 9).putInt(32).putInt(0).putInt(0)
                .putLong(0).putInt(7).putInt(4).flip();
        // REGION_WRITE (command 10), No_reply (0x10), 4 bytes to BAR0 0x80: size 16 + 16 + 4.
        writeRequest = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        writeRequest.putShort((short) 8).putShort((short) 10).putInt(36).putInt(0x10).putInt(0)
                .putLong(0x80).putInt(0).putInt(4).putInt(0x1234_5678).flip();
        out = ByteBuffer.allocateDirect(64 * 1024);
    }

    /** Header and REGION_READ request decoded from their bytes, with every check the server makes. */
    @Benchmark
    public Message regionReadRequestDecode() throws ProtocolException {
        ByteBuffer b = readRequest.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Header h = Header.decode(b);
        return MessageDecoder.decode(h, b.slice(), 0, limits);
    }

    /** The 4-byte reply written in place (header, fixed fields, data view filled with one int). */
    @Benchmark
    public ByteBuffer regionReadReplyEncodeInPlace() {
        ByteBuffer data = MessageEncoder.regionReadReplyInPlace(msgId++ & 0xFFFF, 0, 7, 4, out.clear());
        data.order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x0001_1B5A);
        return out;
    }

    /** The same reply through the record and the general encoder (what a non-hot-path handler would do). */
    @Benchmark
    public ByteBuffer regionReadReplyEncodeRecord() {
        ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x0001_1B5A);
        MessageEncoder.encode(msgId++ & 0xFFFF, new RegionRead.Reply(0, 7, data), 1, out.clear());
        return out;
    }

    /** Request decode plus in-place reply encode: the protocol's share of one config read. */
    @Benchmark
    public ByteBuffer regionReadRoundTrip() throws ProtocolException {
        ByteBuffer b = readRequest.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Header h = Header.decode(b);
        RegionRead.Request r = (RegionRead.Request) MessageDecoder.decode(h, b.slice(), 0, limits);
        ByteBuffer data = MessageEncoder.regionReadReplyInPlace(h.msgId(), r.offset(), r.region(), (int) r.count(),
                out.clear());
        data.order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x0001_1B5A);
        return out;
    }

    /** A posted REGION_WRITE decoded (the data stays a view of the buffer). */
    @Benchmark
    public Message regionWriteRequestDecode() throws ProtocolException {
        ByteBuffer b = writeRequest.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Header h = Header.decode(b);
        return MessageDecoder.decode(h, b.slice(), 0, limits);
    }

    /** The DMA_WRITE size, apart so that only its benchmark runs once per size. */
    @State(Scope.Thread)
    public static class DmaSize {
        /** Data bytes of the DMA_WRITE request: a 4-byte MSI message, a page. */
        @Param({"4", "4096"})
        public int dmaBytes;
    }

    /** A DMA_WRITE request of {@code dmaBytes} written in place (the data area is filled by the caller). */
    @Benchmark
    public ByteBuffer dmaWriteRequestEncodeInPlace(DmaSize size) {
        ByteBuffer data = MessageEncoder.dmaWriteRequestInPlace(msgId++ & 0xFFFF, 0xFEE0_0000L, size.dmaBytes,
                out.clear());
        data.put(0, (byte) 0x41);
        return out;
    }
}
