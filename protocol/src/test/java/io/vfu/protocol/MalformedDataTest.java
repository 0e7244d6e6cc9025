package io.vfu.protocol;

import static io.vfu.protocol.Vectors.assertErrno;
import static io.vfu.protocol.Vectors.setU32;
import static io.vfu.protocol.Vectors.setU64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** One method per malformed input, for interrupts, data transfer, features and migration. */
class MalformedDataTest {

    static final Limits L = GoldenTest.LIMITS;
    static final Errno EINVAL = Errno.EINVAL;

    @Nested
    class SetIrqsTest {
        final byte[] trigger = Vectors.named("DEVICE_SET_IRQS request, eventfd trigger").bytes();

        @Test
        void twoDataTypes() {
            assertErrno(EINVAL, setU32(trigger, 20, 0x26), 1, L);
        }

        @Test
        void noAction() {
            assertErrno(EINVAL, setU32(trigger, 20, 0x04), 1, L);
        }

        @Test
        void twoActions() {
            assertErrno(EINVAL, setU32(trigger, 20, 0x2c), 1, L);
        }

        @Test
        void unknownFlagBit() {
            assertErrno(EINVAL, setU32(trigger, 20, 0x64), 1, L);
        }

        @Test
        void startPlusCountOverflows() {
            // start 0xFFFFFFFF, count 2, no fds (de-assign): only the overflow is wrong.
            assertErrno(EINVAL, setU32(setU32(trigger, 28, 0xFFFF_FFFFL), 32, 2), 0, L);
        }

        @Test
        void eventfdCountMustMatchFds() {
            assertErrno(EINVAL, trigger, 2, L);
        }

        @Test
        void eventfdWithoutFdsDeassigns() throws ProtocolException {
            var r = (DeviceSetIrqs.Request) Vectors.decode(trigger, 0, L);
            assertEquals(0, r.expectedFds(0));
            assertEquals(1, r.expectedFds(1));
        }

        @Test
        void boolCarriesNoFds() {
            assertErrno(EINVAL, Vectors.named("DEVICE_SET_IRQS request, bool").bytes(), 1, L);
        }
    }

    @Nested
    class WriteMultiTest {
        final byte[] multi = Vectors.named("REGION_WRITE_MULTI request").bytes();

        @Test
        void entryCountAboveEight() {
            assertErrno(EINVAL, setU32(multi, 36, 9), 0, L);
        }

        @Test
        void entryRangeWraps() {
            assertErrno(EINVAL, setU64(multi, 24, -2L), 0, L);
        }

        @Test
        void fdAttached() {
            assertErrno(EINVAL, multi, 1, L);
        }

        @Test
        void recordRejectsMoreThanEightBytes() {
            assertThrows(IllegalArgumentException.class,
                    () -> new RegionWriteMulti.Write(0, 0, java.nio.ByteBuffer.allocate(9)));
        }
    }

    @Nested
    class RegionAndDmaTest {
        @Test
        void regionReadRangeWraps() {
            assertErrno(EINVAL, setU64(Vectors.named("REGION_READ request").bytes(), 16, -2L), 0, L);
        }

        @Test
        void dmaReadRangeWraps() {
            assertErrno(EINVAL, setU64(Vectors.named("DMA_READ request").bytes(), 16, -4L), 0, L);
        }

        @Test
        void dataMessagesCarryNoFds() {
            for (String v : new String[] {"REGION_READ request", "REGION_WRITE request", "DMA_READ reply",
                "DMA_WRITE request", "MIG_DATA_WRITE request", "DEVICE_RESET request"}) {
                assertErrno(EINVAL, Vectors.named(v).bytes(), 1, L);
            }
        }

        @Test
        void resetHasNoPayload() {
            assertErrno(EINVAL, Hex.bytes("1400 0d00 11000000 00000000 00000000 00"), 0, L);
        }
    }

    @Nested
    class FeatureTest {
        final byte[] probe = Vectors.named("DEVICE_FEATURE request, probe").bytes();

        @Test
        void noOperation() {
            assertErrno(EINVAL, setU32(probe, 20, 1), 0, L);
        }

        @Test
        void getAndSetWithoutProbe() {
            assertErrno(EINVAL, setU32(probe, 20, 0x30001), 0, L);
        }

        @Test
        void unknownFlagBit() {
            assertErrno(EINVAL, setU32(probe, 20, 0x90001), 0, L);
        }

        @Test
        void deviceStateOfWrongLength() {
            assertErrno(EINVAL, Hex.bytes("""
                1800 1000 1c000000 00000000 00000000 // size 28
                10000000 02000200 01000000           // SET MIG_DEVICE_STATE with only 4 data bytes
                """), 0, L);
        }

        @Test
        void reportPageSizeNotAPowerOfTwo() {
            assertErrno(EINVAL, setU64(Vectors.named("DEVICE_FEATURE request, DMA_LOGGING_REPORT").bytes(), 40,
                    3000), 0, L);
        }

        @Test
        void reportBitmapOfWrongLength() {
            assertErrno(EINVAL, setU64(Vectors.named("DEVICE_FEATURE reply, DMA_LOGGING_REPORT").bytes(), 32,
                    0x80000), 0, L);
        }

        @Test
        void unknownFeatureKeepsRawData() throws ProtocolException {
            Message m = Vectors.decode(Hex.bytes("""
                2200 1000 1a000000 00000000 00000000 // size 26
                10000000 03000200 abcd               // SET feature 3, two data bytes
                """), 0, L);
            var r = assertInstanceOf(DeviceFeature.Request.class, m);
            assertEquals(new FeatureData.Raw(Bytes.of((byte) 0xab, (byte) 0xcd)), r.data());
        }

        @Test
        void truncatedGetReplyThenRetry() throws ProtocolException {
            var data = new FeatureData.Migration(FeatureData.Migration.STOP_COPY);
            var first = DeviceFeature.Reply.forArgsz(8, 0x10001, data);
            assertEquals(new DeviceFeature.Reply(16, 0x10001, new FeatureData.None()), first);
            assertEquals(first, Vectors.decode(DispatchTest.asBytes(MessageEncoder.encode(1, first, 0)), 0, L));
            assertEquals(DeviceFeature.Reply.of(0x10001, data), DeviceFeature.Reply.forArgsz(16, 0x10001, data));
        }

        @Test
        void recordRejectsDataThatDoesNotFitTheFlags() {
            assertThrows(IllegalArgumentException.class,
                    () -> new DeviceFeature.Request(8, 0x10001, new FeatureData.Migration(1)));
        }
    }

    @Nested
    class MigrationDataTest {
        @Test
        void readArgszTooSmallForTheData() {
            assertErrno(EINVAL, setU32(Vectors.named("MIG_DATA_READ request").bytes(), 16, 8), 0, L);
        }

        @Test
        void readReplyArgszMustBeItsSize() {
            assertErrno(EINVAL, setU32(Vectors.named("MIG_DATA_READ reply").bytes(), 16, 100), 0, L);
        }
    }
}
