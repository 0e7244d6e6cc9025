package io.vfu.protocol;

import static io.vfu.protocol.Vectors.assertErrno;
import static io.vfu.protocol.Vectors.setU32;
import static io.vfu.protocol.Vectors.setU64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** One method per malformed input, for the setup and discovery commands. Offsets are from message start. */
class MalformedSetupTest {

    static final Limits L = GoldenTest.LIMITS;
    static final Errno EINVAL = Errno.EINVAL;

    @Nested
    class DmaMapTest {
        final byte[] map = Vectors.named("DMA_MAP request").bytes();

        @Test
        void unknownFlagBit() {
            for (long bit : new long[] {0x10, 0x100, 0x8000_0000L}) {
                assertErrno(EINVAL, setU32(map, 20, 3 | bit), 1, L);
            }
        }

        /** libvfio-user's VFIO_USER_F_DMA_REGION_MMAP (bit 2): "mmap the fd"; it names the fd it comes with. */
        @Test
        void mmapAccessModeNeedsTheFdItDescribes() throws ProtocolException {
            byte[] mmap = setU32(map, 20, 3 | 4);
            assertEquals(new DmaMap.Request(32, 7, 0x1000, 0x1_0000_0000L, 0x4000_0000L), Vectors.decode(mmap, 1, L));
            assertErrno(EINVAL, mmap, 0, L);
        }

        /** Bit 3, file I/O on the fd (pread/pwrite), likewise describes an fd; it excludes the mmap mode. */
        @Test
        void fileIoAccessModeNeedsTheFdItDescribesAndExcludesMmap() throws ProtocolException {
            byte[] fileIo = setU32(map, 20, 1 | 8);
            assertEquals(new DmaMap.Request(32, 9, 0x1000, 0x1_0000_0000L, 0x4000_0000L),
                    Vectors.decode(fileIo, 1, L));
            assertErrno(EINVAL, fileIo, 0, L);
            assertErrno(EINVAL, setU32(map, 20, 3 | 4 | 8), 1, L);
        }

        @Test
        void zeroSize() {
            assertErrno(EINVAL, setU64(map, 40, 0), 1, L);
        }

        @Test
        void wrappingRange() {
            assertErrno(EINVAL, setU64(map, 32, -0x1000L), 1, L);
        }

        @Test
        void twoFds() {
            assertErrno(EINVAL, map, 2, L);
        }

        @Test
        void noFdMeansAccessThroughDmaMessages() throws ProtocolException {
            assertEquals(Vectors.named("DMA_MAP request").expected(), Vectors.decode(map, 0, L));
        }
    }

    @Nested
    class DmaUnmapTest {
        final byte[] unmap = Vectors.named("DMA_UNMAP request").bytes();

        @Test
        void removedDirtyBitmapFlag() {
            assertErrno(EINVAL, setU32(unmap, 20, 1), 0, L);
        }

        @Test
        void zeroSizeWithoutUnmapAll() {
            assertErrno(EINVAL, setU64(unmap, 32, 0), 0, L);
        }

        @Test
        void fdAttached() {
            assertErrno(EINVAL, unmap, 1, L);
        }

        /** As Linux VFIO_DMA_UNMAP_FLAG_ALL: unmap-all names no range, so address and size must be zero. */
        @Test
        void unmapAllWithAnAddressOrASize() {
            byte[] all = Vectors.named("DMA_UNMAP request, unmap all").bytes();
            assertErrno(EINVAL, setU64(all, 24, 0x1000), 0, L);
            assertErrno(EINVAL, setU64(all, 32, 0x1000), 0, L);
            assertErrno(EINVAL, setU64(setU64(all, 24, 0x1_0000_0000L), 32, 0x4000_0000L), 0, L);
        }
    }

    @Nested
    class InfoTest {
        @Test
        void deviceInfoRequestFieldsMustBeZero() {
            byte[] req = Vectors.named("DEVICE_GET_INFO request").bytes();
            assertErrno(EINVAL, setU32(req, 20, 1), 0, L);
            assertErrno(EINVAL, setU32(req, 24, 1), 0, L);
            assertErrno(EINVAL, setU32(req, 28, 1), 0, L);
        }

        @Test
        void irqInfoRequestFlagsAndCountMustBeZero() {
            byte[] req = Vectors.named("DEVICE_GET_IRQ_INFO request").bytes();
            assertErrno(EINVAL, setU32(req, 20, 1), 0, L);
            assertErrno(EINVAL, setU32(req, 28, 1), 0, L);
        }

        @Test
        void regionInfoRequestFieldsMustBeZero() {
            byte[] req = Vectors.named("DEVICE_GET_REGION_INFO request").bytes();
            for (int off : new int[] {20, 28, 32, 40}) {
                assertErrno(EINVAL, setU32(req, off, 1), 0, L);
            }
        }
    }

    @Nested
    class RegionInfoReplyTest {
        final byte[] caps = Vectors.named("DEVICE_GET_REGION_INFO reply, sparse").bytes();

        @Test
        void chainLoopingBackIsRejected() {
            assertErrno(EINVAL, setU32(caps, 52, 32), 1, L);
        }

        @Test
        void nextPastTheEnd() {
            assertErrno(EINVAL, setU32(caps, 52, 0x1000), 1, L);
        }

        @Test
        void capOffsetInsideTheInfo() {
            assertErrno(EINVAL, setU32(caps, 28, 16), 1, L);
        }

        @Test
        void misalignedCapOffset() {
            assertErrno(EINVAL, setU32(caps, 28, 36), 1, L);
        }

        @Test
        void unknownCapId() {
            assertErrno(EINVAL, setU32(caps, 48, 0x0001_0009), 1, L);
        }

        @Test
        void unsupportedCapVersion() {
            assertErrno(EINVAL, setU32(caps, 48, 0x0002_0001), 1, L);
        }

        @Test
        void capsWithoutTheCapsFlag() {
            assertErrno(EINVAL, setU32(caps, 20, 7), 1, L);
        }

        @Test
        void mmapRequiresExactlyOneFd() {
            assertErrno(EINVAL, caps, 0, L);
            assertErrno(EINVAL, caps, 2, L);
            assertErrno(EINVAL, Vectors.named("DEVICE_GET_REGION_INFO reply, no caps").bytes(), 1, L);
        }

        @Test
        void retryAfterATruncatedReplyGetsTheCaps() throws ProtocolException {
            var full = (DeviceGetRegionInfo.Reply) Vectors.named("DEVICE_GET_REGION_INFO reply, sparse").expected();
            var first = DeviceGetRegionInfo.Reply.forArgsz(32, full.flags(), 0, full.size(), 0, full.caps());
            assertTrue(first.truncated());
            assertEquals(Vectors.named("DEVICE_GET_REGION_INFO reply, truncated").expected(), first);
            assertEquals(96, first.argsz(), "argsz tells the client what to ask for");
            var second = DeviceGetRegionInfo.Reply.forArgsz(first.argsz(), full.flags(), 0, full.size(), 0,
                    full.caps());
            assertEquals(full, second);
            assertEquals(full, Vectors.decode(DispatchTest.asBytes(MessageEncoder.encode(7, second, 0)), 1, L));
        }
    }

    @Nested
    class IoFdsTest {
        final byte[] reply = Vectors.named("DEVICE_GET_REGION_IO_FDS reply").bytes();

        @Test
        void fdIndexBeyondTheFds() {
            assertErrno(EINVAL, reply, 1, L);
        }

        @Test
        void fullReplyWithoutFds() {
            assertErrno(EINVAL, reply, 0, L);
        }

        @Test
        void unknownSubRegionType() {
            assertErrno(EINVAL, setU32(reply, 52, 2), 2, L);
        }

        @Test
        void replyFlagsMustBeZero() {
            assertErrno(EINVAL, setU32(reply, 20, 1), 2, L);
        }

        @Test
        void requestFlagsAndCountMustBeZero() {
            byte[] req = Vectors.named("DEVICE_GET_REGION_IO_FDS request").bytes();
            assertErrno(EINVAL, setU32(req, 20, 1), 0, L);
            assertErrno(EINVAL, setU32(req, 28, 1), 0, L);
        }

        @Test
        void truncatedReplyCarriesNoFds() {
            assertErrno(EINVAL, Vectors.named("DEVICE_GET_REGION_IO_FDS reply, truncated").bytes(), 1, L);
            var r = DeviceGetRegionIoFds.Reply.forArgsz(16, 0, List.of(new IoFdSubRegion.IoEventFd(0, 4, 0, 0, 0)));
            assertTrue(r.truncated());
            assertEquals(56, r.argsz());
        }
    }
}
