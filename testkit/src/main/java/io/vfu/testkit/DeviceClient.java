package io.vfu.testkit;

import io.vfu.client.DmaHandler;
import io.vfu.client.VfioUserClient;
import io.vfu.protocol.Command;
import io.vfu.protocol.DeviceReset;
import io.vfu.protocol.DeviceSetIrqs;
import io.vfu.protocol.DmaMap;
import io.vfu.protocol.DmaUnmap;
import io.vfu.protocol.Message;
import io.vfu.protocol.MessageEncoder;
import io.vfu.protocol.RegionRead;
import io.vfu.protocol.RegionWrite;
import io.vfu.transport.ErrorReplyException;
import io.vfu.transport.Frame;
import io.vfu.transport.nativeio.EventFd;
import io.vfu.transport.nativeio.MemFd;
import io.vfu.transport.nativeio.Mmap;
import io.vfu.transport.nativeio.OwnedFd;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * A negotiated vfio-user client for device tests, doing what QEMU does: region reads and writes, guest memory
 * (a memfd, DMA_MAP'd), interrupts on real eventfds (SET_IRQS), device reset. A failed command throws
 * {@link ErrorReplyException} with the errno the device answered.
 */
public final class DeviceClient implements AutoCloseable {

    /** PCI region indexes (spec: BAR0-5 0-5, ROM 6, CONFIG 7). */
    public static final int CONFIG = 7;
    /** vfio IRQ indexes. */
    public static final int INTX = 0;
    public static final int MSIX = 2;

    /** What QEMU 11 proposes in VERSION. */
    private static final String QEMU_CAPABILITIES = "{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
            + "\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true}";

    private final VfioUserClient client;
    private final List<AutoCloseable> owned = new ArrayList<>();

    private DeviceClient(VfioUserClient client) {
        this.client = client;
    }

    /** Connects to {@code socket} and negotiates VERSION as QEMU 11 does. */
    public static DeviceClient connect(Path socket) throws Exception {
        VfioUserClient c = VfioUserClient.connect(socket, DmaHandler.refuseAll());
        try (Frame f = c.version(0, 0, QEMU_CAPABILITIES).get(VfioUserClient.DEFAULT_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS)) {
            if (f.header().isError()) {
                throw new ErrorReplyException(f.header());
            }
        } catch (Exception e) {
            c.close();
            throw e;
        }
        return new DeviceClient(c);
    }

    /** The raw client, for what these helpers do not cover. */
    public VfioUserClient raw() {
        return client;
    }

    /** Reads {@code width} (1, 2, 4 or 8) bytes of {@code region} at {@code offset}, little-endian. */
    public long read(int region, long offset, int width) throws Exception {
        try (Frame f = client.call(Command.REGION_READ, MessageEncoder.payload(
                new RegionRead.Request(offset, region, width)))) {
            ByteBuffer d = f.payload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long v = 0;
            for (int i = 0; i < width; i++) {
                v |= (d.get(RegionRead.FIXED + i) & 0xFFL) << (8 * i);
            }
            return v;
        }
    }

    /** Writes {@code width} bytes of {@code value} to {@code region} at {@code offset} and waits for the reply. */
    public void write(int region, long offset, int width, long value) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < width; i++) {
            b.put((byte) (value >>> (8 * i)));
        }
        call(new RegionWrite.Request(offset, region, b.flip()));
    }

    /** 32-bit read of config space. */
    public long config32(int offset) throws Exception {
        return read(CONFIG, offset, 4);
    }

    /** The config-space offset of the first capability with {@code id}, or -1 (walks the chain from 0x34). */
    public int capability(int id) throws Exception {
        int at = (int) read(CONFIG, 0x34, 1);
        for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
            long header = read(CONFIG, at, 2);
            if ((header & 0xFF) == id) {
                return at;
            }
            at = (int) (header >>> 8) & 0xFC;
        }
        return -1;
    }

    /** Sets Memory Space and Bus Master Enable in Command, as firmware and drivers do. */
    public void enableBusMaster() throws Exception {
        write(CONFIG, 0x04, 2, read(CONFIG, 0x04, 2) | 0x6);
    }

    /** Sets MSI-X Enable in the MSI-X capability's Message Control (the capability must exist). */
    public void enableMsix() throws Exception {
        int cap = capability(0x11);
        if (cap < 0) {
            throw new IllegalStateException("the device has no MSI-X capability");
        }
        write(CONFIG, cap + 2, 2, (read(CONFIG, cap + 2, 2) | 0x8000) & ~0x4000);
    }

    /**
     * Gives MSI-X vector {@code vector} a new eventfd (SET_IRQS start=vector count=1, QEMU's dynamic append) and
     * returns it; the client closes it with itself.
     */
    public EventFd assignMsix(int vector) throws Exception {
        return assign(MSIX, vector);
    }

    /** Gives INTx a new eventfd and returns it. */
    public EventFd assignIntx() throws Exception {
        return assign(INTX, 0);
    }

    private EventFd assign(int index, int start) throws Exception {
        EventFd e = EventFd.create();
        owned.add(e);
        call(DeviceSetIrqs.Request.of(DeviceSetIrqs.DATA_EVENTFD | DeviceSetIrqs.ACTION_TRIGGER, index, start, 1),
                e.fd().fd());
        return e;
    }

    /** Waits up to {@code timeout} for {@code irq} to be signalled; the count (drained), or empty. */
    public static OptionalLong await(EventFd irq, Duration timeout) throws Exception {
        return irq.await(timeout);
    }

    /** VFIO_USER_DEVICE_RESET. */
    public void reset() throws Exception {
        call(new DeviceReset.Request());
    }

    /**
     * {@code size} bytes of guest memory (a memfd) mapped for the device at {@code iova}, read-write; the test
     * sees the same bytes through {@link GuestRam#memory()}.
     */
    public GuestRam mapGuestMemory(long iova, long size) throws Exception {
        OwnedFd fd = MemFd.create("guest-ram", size);
        Mmap local = null;
        try {
            local = Mmap.map(fd, 0, size, true);
            call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, iova, size), fd.fd());
            GuestRam ram = new GuestRam(this, iova, fd, local);
            owned.add(ram);
            return ram;
        } catch (Exception | Error e) {
            if (local != null) {
                local.close();
            }
            fd.close();
            throw e;
        }
    }

    void mapAgain(long iova, long size, OwnedFd fd) throws Exception {
        call(new DmaMap.Request(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0, iova, size), fd.fd());
    }

    void unmap(long iova, long size) {
        try {
            if (client.connection().isOpen()) {
                call(new DmaUnmap.Request(24, 0, iova, size));
            }
        } catch (Exception e) {
            throw new IllegalStateException("DMA_UNMAP of 0x" + Long.toHexString(iova) + " failed", e);
        }
    }

    /** Sends {@code request}, waits for its reply, throws {@link ErrorReplyException} for an error reply. */
    public void call(Message.Request request, int... fds) throws Exception {
        try (Frame f = client.call(request.command(), MessageEncoder.payload(request), fds)) {
            if (f.header().isError()) {
                throw new ErrorReplyException(f.header());
            }
        }
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                // the session is going away with the client: what it held goes with it
            }
        }
        client.close();
    }

    static UncheckedIOException unchecked(java.io.IOException e) {
        return new UncheckedIOException(e);
    }
}
