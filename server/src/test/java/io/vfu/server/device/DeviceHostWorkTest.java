package io.vfu.server.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vfu.device.DeviceContext;
import io.vfu.device.DeviceException;
import io.vfu.device.DeviceLock;
import io.vfu.device.GuestMemory;
import io.vfu.device.Interrupts;
import io.vfu.device.IrqAction;
import io.vfu.device.IrqData;
import io.vfu.device.IrqInfo;
import io.vfu.device.IrqTarget;
import io.vfu.device.RegionInfo;
import io.vfu.device.VfioDevice;
import io.vfu.server.metrics.DeviceMetrics;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Work a region write asks for ({@link DeviceContext#requestWork()}) reaches the device: on the worker, after any
 * write, even one that then fails; with no client attached it waits for one, as before.
 */
class DeviceHostWorkTest {

    /** A device whose every BAR0 write asks for work; a write of 0xBAD then fails. */
    static final class AskingDevice implements VfioDevice {
        final DeviceContext context;
        final CountDownLatch worked = new CountDownLatch(1);
        volatile int directOffers;
        /** Set by a write that asked for work: the worker's runs before it (attach() schedules one) do not count. */
        volatile boolean asked;
        final CountDownLatch ran = new CountDownLatch(1);

        AskingDevice(DeviceContext context) {
            this.context = context;
        }

        @Override
        public int regionCount() {
            return 1;
        }

        @Override
        public RegionInfo regionInfo(int index) {
            return RegionInfo.readWrite(index, 4096);
        }

        @Override
        public void read(int region, long offset, ByteBuffer dst) {
            dst.position(dst.limit());
        }

        @Override
        public void write(int region, long offset, ByteBuffer src) {
            asked = true;
            context.requestWork();
            if (src.getInt(src.position()) == 0xBAD) {
                throw DeviceException.invalid("refused after asking");
            }
        }

        @Override
        public Interrupts interrupts() {
            return NO_IRQS;
        }

        @Override
        public void reset() {
        }

        @Override
        public void work(GuestMemory memory, DeviceLock lock) {
            if (asked) {
                worked.countDown();
            }
            ran.countDown();
        }

        @Override
        public boolean workDirect(GuestMemory memory, DeviceLock lock) {
            directOffers++;
            return false;
        }
    }

    static final Interrupts NO_IRQS = new Interrupts() {
        @Override
        public int count() {
            return 0;
        }

        @Override
        public IrqInfo info(int index) {
            throw new IllegalArgumentException("no irqs");
        }

        @Override
        public List<IrqTarget> set(int index, IrqAction action, long start, long count, IrqData data) {
            throw new IllegalArgumentException("no irqs");
        }

        @Override
        public List<IrqTarget> releaseSession() {
            return List.of();
        }

        @Override
        public boolean hasReleased() {
            return false;
        }

        @Override
        public List<IrqTarget> takeReleased() {
            return List.of();
        }
    };

    private static ByteBuffer word(int v) {
        return ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    }

    /** A host with the asking device, attached to a session that lends no guest memory and takes no posted write. */
    static final class Fixture implements AutoCloseable {
        final AskingDevice[] made = new AskingDevice[1];
        final DeviceHost host = new DeviceHost("w", c -> made[0] = new AskingDevice(c),
                new DeviceMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), "w"));
        final AskingDevice dev = made[0];

        Fixture() {
            GuestMemory none = new GuestMemory() {
                @Override
                public void read(long address, ByteBuffer dst) throws io.vfu.device.GuestMemoryException {
                    throw new io.vfu.device.GuestMemoryException("no guest memory");
                }

                @Override
                public void write(long address, ByteBuffer src) throws io.vfu.device.GuestMemoryException {
                    throw new io.vfu.device.GuestMemoryException("no guest memory");
                }
            };
            host.attach(new DeviceHost.Attachment() {
                @Override
                public GuestMemory guestMemory() {
                    return none;
                }

                @Override
                public io.vfu.transport.Connection connection() {
                    return null; // the device posts nothing
                }
            });
            try {
                // Rule: the run attach() schedules is over before a test writes, so it cannot stand in for one.
                if (!dev.ran.await(5, TimeUnit.SECONDS)) {
                    throw new AssertionError("attach() scheduled no worker run");
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() {
            host.close();
        }
    }

    @Test
    void workAWriteAskedForIsOfferedToTheWritingThreadThenGoesToTheWorker() throws Exception {
        try (Fixture f = new Fixture()) {
            f.host.write(0, 0, word(1));
            assertEquals(1, f.dev.directOffers, "offered once, on the thread that served the write");
            assertTrue(f.dev.worked.await(5, TimeUnit.SECONDS), "declined there, so the worker ran it");
        }
    }

    @Test
    void workAWriteAskedForIsNotLostWhenTheWriteThenFails() throws Exception {
        try (Fixture f = new Fixture()) {
            assertThrows(DeviceException.class, () -> f.host.write(0, 0, word(0xBAD)));
            assertTrue(f.dev.worked.await(5, TimeUnit.SECONDS), "the worker ran the work the failed write asked for");
            assertEquals(0, f.dev.directOffers, "a failed write's work is not offered on the writing thread");
        }
    }
}
