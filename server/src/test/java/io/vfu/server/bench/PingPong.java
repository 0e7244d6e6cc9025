package io.vfu.server.bench;

import io.vfu.protocol.Header;
import io.vfu.transport.nativeio.OwnedFd;
import io.vfu.transport.nativeio.SocketIo;
import io.vfu.transport.nativeio.UnixSockets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import io.vfu.transport.Frame;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketPair;

/**
 * Round-trip latency of a 24-byte vfio-user message (16-byte header + 8-byte payload) echoed by a thread:
 * through {@link UnixSocketTransport} (FFM recvmsg/sendmsg, header then payload) versus a raw junixsocket
 * channel loop that reads the 24 bytes in one call, and one that reads 16 then 8 bytes like the framing rule. Not a unit test; run by hand:
 * {@code java --enable-native-access=ALL-UNNAMED -cp ... io.vfu.server.bench.PingPong [iterations]}.
 */
public final class PingPong {

    private PingPong() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        for (int round = 0; round < 3; round++) {
            report("transport", transport(n));
            report("raw junixsocket", raw(n, false));
            report("raw 16+8 reads", raw(n, true));
            report("SocketIo 16+8", socketIo(n));
        }
    }

    private static void report(String name, long[] ns) {
        Arrays.sort(ns);
        System.out.printf("%-16s median %6.1f us  p99 %6.1f us%n", name, ns[ns.length / 2] / 1e3,
                ns[(int) (ns.length * 0.99)] / 1e3);
    }

    private static long[] transport(int n) throws Exception {
        UnixSocketTransport[] p = UnixSocketTransport.pair(TransportLimits.DEFAULT);
        Thread echo = Thread.ofPlatform().daemon().start(() -> {
            try {
                while (true) {
                    try (Frame f = p[1].receive()) {
                        if (f == null) {
                            return;
                        }
                        p[1].send(Header.reply(f.header().msgId(), f.header().command(), 24), f.payload());
                    }
                }
            } catch (Exception ignored) {
                // closed
            }
        });
        ByteBuffer payload = ByteBuffer.allocate(8);
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            p[0].send(new Header(i & 0xFFFF, 9, 24, 0, 0), payload);
            p[0].receive().close();
            ns[i] = System.nanoTime() - t0;
        }
        p[0].close();
        echo.join();
        p[1].close();
        return ns;
    }

    /** {@code split}: read the header and the payload with separate calls, as the framing rule requires. */
    private static long[] raw(int n, boolean split) throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> p = AFUNIXSocketPair.open();
        AFUNIXSocketChannel a = p.getSocket1();
        AFUNIXSocketChannel b = p.getSocket2();
        Thread echo = Thread.ofPlatform().daemon().start(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(24);
            try {
                while (true) {
                    buf.clear();
                    if (split) {
                        buf.limit(16);
                        while (buf.hasRemaining()) {
                            if (b.read(buf) < 0) {
                                return;
                            }
                        }
                        buf.limit(24);
                    }
                    while (buf.hasRemaining()) {
                        if (b.read(buf) < 0) {
                            return;
                        }
                    }
                    buf.flip();
                    b.write(buf);
                }
            } catch (Exception ignored) {
                // closed
            }
        });
        ByteBuffer buf = ByteBuffer.allocateDirect(24);
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            buf.clear();
            a.write(buf);
            buf.clear();
            if (split) {
                buf.limit(16);
                while (buf.hasRemaining()) {
                    a.read(buf);
                }
                buf.limit(24);
            }
            while (buf.hasRemaining()) {
                a.read(buf);
            }
            ns[i] = System.nanoTime() - t0;
        }
        a.close();
        echo.join();
        b.close();
        return ns;
    }

    /** FFM recvmsg/sendmsg through {@link SocketIo} alone, 16 then 8 bytes: the floor under the transport. */
    private static long[] socketIo(int n) throws Exception {
        OwnedFd[] p = UnixSockets.pair();
        SocketIo a = new SocketIo(p[0].fd());
        SocketIo ain = new SocketIo(p[0].fd());
        SocketIo b = new SocketIo(p[1].fd());
        SocketIo bin = new SocketIo(p[1].fd());
        int[] none = new int[0];
        Thread echo = Thread.ofPlatform().daemon().start(() -> {
            MemorySegment buf = Arena.ofAuto().allocate(24);
            try {
                while (true) {
                    if (bin.receive(buf, 0, 16) == 0 || bin.receive(buf, 16, 8) == 0) {
                        return;
                    }
                    b.send(buf, 24, none);
                }
            } catch (Exception ignored) {
                // closed
            }
        });
        MemorySegment buf = Arena.ofAuto().allocate(24);
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            a.send(buf, 24, none);
            ain.receive(buf, 0, 16);
            ain.receive(buf, 16, 8);
            ns[i] = System.nanoTime() - t0;
        }
        a.shutdown();
        echo.join();
        p[0].close();
        p[1].close();
        return ns;
    }
}
