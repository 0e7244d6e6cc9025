package io.vfu.protocol;

import java.util.List;

/** Hand-written vectors for data transfer, reset, features, migration and error replies (spec tables). */
final class GoldenDataVectors {

    private GoldenDataVectors() {
    }

    static byte[] b(int... v) {
        byte[] a = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = (byte) v[i];
        }
        return a;
    }

    static List<Golden> all() {
        return List.of(
            Golden.of("REGION_READ request", """
                1000 0900 20000000 00000000 00000000 // id 16, REGION_READ, size 32
                1000000000000000                     // offset 0x10
                07000000 04000000                    // region 7, count 4
                """, new RegionRead.Request(0x10, 7, 4), 16),
            Golden.of("REGION_READ reply", """
                1000 0900 24000000 01000000 00000000 // id 16, REGION_READ, size 36, reply
                1000000000000000 07000000 04000000   // offset 0x10, region 7, count 4
                86803412                             // data
                """, new RegionRead.Reply(0x10, 7, Bytes.of(b(0x86, 0x80, 0x34, 0x12))), 16),
            Golden.of("REGION_WRITE request, posted", """
                1100 0a00 22000000 10000000 00000000 // id 17, REGION_WRITE, size 34, No_reply
                0400000000000000 07000000 02000000   // offset 4, region 7, count 2
                0600                                 // data
                """, new RegionWrite.Request(4, 7, Bytes.of(b(6, 0))), 17).noReply(),
            Golden.of("REGION_WRITE reply", """
                1100 0a00 20000000 01000000 00000000 // id 17, REGION_WRITE, size 32, reply
                0400000000000000 07000000 02000000   // offset 4, region 7, count 2
                """, new RegionWrite.Reply(4, 7, 2), 17),
            Golden.of("DMA_READ request", """
                1200 0b00 20000000 00000000 00000000 // id 18, DMA_READ, size 32
                0010000000000000                     // address 0x1000
                0800000000000000                     // count 8 (u64)
                """, new DmaRead.Request(0x1000, 8), 18),
            Golden.of("DMA_READ reply", """
                1200 0b00 28000000 01000000 00000000 // id 18, DMA_READ, size 40, reply
                0010000000000000 0800000000000000    // address 0x1000, count 8
                0102030405060708                     // data
                """, new DmaRead.Reply(0x1000, Bytes.of(b(1, 2, 3, 4, 5, 6, 7, 8))), 18),
            Golden.of("DMA_WRITE request, MSI message", """
                1300 0c00 24000000 00000000 00000000 // id 19, DMA_WRITE, size 36
                0000e0fe00000000                     // address 0xFEE0_0000
                0400000000000000                     // count 4 (u64)
                41000000                             // data 0x41
                """, new DmaWrite.Request(0xFEE0_0000L, Bytes.of(b(0x41, 0, 0, 0))), 19),
            Golden.of("DMA_WRITE reply (count u64, as QEMU 11)", """
                1300 0c00 20000000 01000000 00000000 // id 19, DMA_WRITE, size 32, reply
                0000e0fe00000000                     // address
                0400000000000000                     // count 4 (8 bytes, not the 4 of the spec table)
                """, new DmaWrite.Reply(0xFEE0_0000L, 4), 19),
            Golden.of("DEVICE_RESET request", """
                1400 0d00 10000000 00000000 00000000 // id 20, DEVICE_RESET, size 16
                """, new DeviceReset.Request(), 20),
            Golden.of("DEVICE_RESET reply", """
                1400 0d00 10000000 01000000 00000000 // id 20, DEVICE_RESET, size 16, reply
                """, new DeviceReset.Reply(), 20),
            Golden.of("REGION_WRITE_MULTI request", """
                1500 0f00 48000000 10000000 00000000 // id 21, WRITE_MULTI, size 72, No_reply
                0200000000000000                     // wr_cnt 2
                0001000000000000 00000000 04000000   // [0] offset 0x100, region 0, count 4
                7856341200000000                     //     data (4 used, 4 padding)
                0800000000000000 02000000 01000000   // [1] offset 8, region 2, count 1
                ff00000000000000                     //     data (1 used)
                """, new RegionWriteMulti.Request(List.of(
                    new RegionWriteMulti.Write(0x100, 0, Bytes.of(b(0x78, 0x56, 0x34, 0x12))),
                    new RegionWriteMulti.Write(8, 2, Bytes.of(b(0xff))))), 21).noReply(),
            Golden.of("REGION_WRITE_MULTI reply", """
                1500 0f00 18000000 01000000 00000000 // id 21, WRITE_MULTI, size 24, reply
                0200000000000000                     // wr_cnt 2
                """, new RegionWriteMulti.Reply(2), 21),
            Golden.of("DEVICE_FEATURE request, probe MIGRATION", """
                1600 1000 18000000 00000000 00000000 // id 22, DEVICE_FEATURE, size 24
                08000000                             // argsz 8
                01000500                             // flags: feature 1 | GET | PROBE
                """, new DeviceFeature.Request(8, 0x50001, new FeatureData.None()), 22),
            Golden.of("DEVICE_FEATURE reply, probe MIGRATION", """
                1600 1000 18000000 01000000 00000000 // id 22, DEVICE_FEATURE, size 24, reply
                08000000 01000500                    // argsz 8, flags as requested
                """, new DeviceFeature.Reply(8, 0x50001, new FeatureData.None()), 22),
            Golden.of("DEVICE_FEATURE request, GET MIGRATION", """
                1700 1000 18000000 00000000 00000000 // id 23, DEVICE_FEATURE, size 24
                10000000                             // argsz 16
                01000100                             // flags: feature 1 | GET
                """, new DeviceFeature.Request(16, 0x10001, new FeatureData.None()), 23),
            Golden.of("DEVICE_FEATURE reply, GET MIGRATION", """
                1700 1000 20000000 01000000 00000000 // id 23, DEVICE_FEATURE, size 32, reply
                10000000 01000100                    // argsz 16, flags
                0500000000000000                     // migration flags STOP_COPY|PRE_COPY
                """, new DeviceFeature.Reply(16, 0x10001, new FeatureData.Migration(5)), 23),
            Golden.of("DEVICE_FEATURE request, SET MIG_DEVICE_STATE", """
                1800 1000 20000000 00000000 00000000 // id 24, DEVICE_FEATURE, size 32
                10000000                             // argsz 16
                02000200                             // flags: feature 2 | SET
                01000000 00000000                    // device_state STOP, data_fd 0
                """, new DeviceFeature.Request(16, 0x20002, new FeatureData.MigDeviceState(1, 0)), 24),
            Golden.of("DEVICE_FEATURE reply, SET MIG_DEVICE_STATE", """
                1800 1000 20000000 01000000 00000000 // id 24, DEVICE_FEATURE, size 32, reply
                10000000 02000200                    // argsz 16, flags
                01000000 00000000                    // device_state STOP, data_fd 0
                """, new DeviceFeature.Reply(16, 0x20002, new FeatureData.MigDeviceState(1, 0)), 24),
            Golden.of("DEVICE_FEATURE request, GET MIG_DEVICE_STATE", """
                1900 1000 18000000 00000000 00000000 // id 25, DEVICE_FEATURE, size 24
                10000000 02000100                    // argsz 16, flags: feature 2 | GET
                """, new DeviceFeature.Request(16, 0x10002, new FeatureData.None()), 25),
            Golden.of("DEVICE_FEATURE reply, GET MIG_DEVICE_STATE", """
                1900 1000 20000000 01000000 00000000 // id 25, DEVICE_FEATURE, size 32, reply
                10000000 02000100                    // argsz 16, flags
                02000000 00000000                    // device_state RUNNING, data_fd 0
                """, new DeviceFeature.Reply(16, 0x10002, new FeatureData.MigDeviceState(2, 0)), 25),
            Golden.of("DEVICE_FEATURE request, DMA_LOGGING_START", """
                1a00 1000 38000000 00000000 00000000 // id 26, DEVICE_FEATURE, size 56
                28000000                             // argsz 40
                06000200                             // flags: feature 6 | SET
                0010000000000000                     // page_size 4096
                01000000 00000000                    // num_ranges 1, reserved
                0000000000000000 0000008000000000    // range: iova 0, length 0x8000_0000
                """, new DeviceFeature.Request(40, 0x20006, new FeatureData.DmaLoggingStart(4096,
                    List.of(new FeatureData.Range(0, 0x8000_0000L)))), 26),
            Golden.of("DEVICE_FEATURE reply, DMA_LOGGING_START", """
                1a00 1000 38000000 01000000 00000000 // id 26, DEVICE_FEATURE, size 56, reply
                28000000 06000200                    // argsz 40, flags
                0010000000000000 01000000 00000000   // page_size 4096, num_ranges 1, reserved
                0000000000000000 0000008000000000    // range
                """, new DeviceFeature.Reply(40, 0x20006, new FeatureData.DmaLoggingStart(4096,
                    List.of(new FeatureData.Range(0, 0x8000_0000L)))), 26),
            Golden.of("DEVICE_FEATURE request, DMA_LOGGING_STOP", """
                1b00 1000 18000000 00000000 00000000 // id 27, DEVICE_FEATURE, size 24
                08000000 07000200                    // argsz 8, flags: feature 7 | SET
                """, new DeviceFeature.Request(8, 0x20007, new FeatureData.None()), 27),
            Golden.of("DEVICE_FEATURE reply, DMA_LOGGING_STOP", """
                1b00 1000 18000000 01000000 00000000 // id 27, DEVICE_FEATURE, size 24, reply
                08000000 07000200                    // argsz 8, flags
                """, new DeviceFeature.Reply(8, 0x20007, new FeatureData.None()), 27),
            Golden.of("DEVICE_FEATURE request, DMA_LOGGING_REPORT", """
                1c00 1000 30000000 00000000 00000000 // id 28, DEVICE_FEATURE, size 48
                28000000                             // argsz 40 = 8 + 24 + 8-byte bitmap
                08000100                             // flags: feature 8 | GET
                0000000001000000                     // iova 0x1_0000_0000
                0000020000000000                     // length 0x20000 (32 pages)
                0010000000000000                     // page_size 4096
                """, new DeviceFeature.Request(40, 0x10008,
                    FeatureData.DmaLoggingReport.request(0x1_0000_0000L, 0x20000, 4096)), 28),
            Golden.of("DEVICE_FEATURE reply, DMA_LOGGING_REPORT", """
                1c00 1000 38000000 01000000 00000000 // id 28, DEVICE_FEATURE, size 56, reply
                28000000 08000100                    // argsz 40, flags
                0000000001000000 0000020000000000    // iova, length
                0010000000000000                     // page_size 4096
                2100008000000000                     // bitmap u64: pages 0, 5, 31 dirty
                """, new DeviceFeature.Reply(40, 0x10008, new FeatureData.DmaLoggingReport(0x1_0000_0000L,
                    0x20000, 4096, Bytes.of(b(0x21, 0, 0, 0x80, 0, 0, 0, 0)))), 28),
            Golden.of("MIG_DATA_READ request", """
                1d00 1100 18000000 00000000 00000000 // id 29, MIG_DATA_READ, size 24
                18000000 10000000                    // argsz 24, size 16
                """, new MigDataRead.Request(24, 16), 29),
            Golden.of("MIG_DATA_READ reply", """
                1d00 1100 1c000000 01000000 00000000 // id 29, MIG_DATA_READ, size 28, reply
                0c000000 04000000                    // argsz 12, size 4 (less than asked: end of data)
                deadbeef                             // data
                """, new MigDataRead.Reply(Bytes.of(b(0xde, 0xad, 0xbe, 0xef))), 29),
            Golden.of("MIG_DATA_WRITE request", """
                1e00 1200 1b000000 00000000 00000000 // id 30, MIG_DATA_WRITE, size 27
                08000000 03000000                    // argsz 8, size 3
                aabbcc                               // data
                """, new MigDataWrite.Request(8, Bytes.of(b(0xaa, 0xbb, 0xcc))), 30),
            Golden.of("MIG_DATA_WRITE reply", """
                1e00 1200 10000000 01000000 00000000 // id 30, MIG_DATA_WRITE, size 16, reply
                """, new MigDataWrite.Reply(), 30),
            Golden.of("error reply EINVAL to REGION_READ", """
                1f00 0900 10000000 21000000 16000000 // id 31, REGION_READ, size 16, reply|Error, errno 22
                """, new ErrorReply(9, 22), 31),
            Golden.of("error reply ENOSYS to unknown command 14", """
                2100 0e00 10000000 21000000 26000000 // id 33, command 14, size 16, reply|Error, errno 38
                """, new ErrorReply(14, 38), 33),
            Golden.of("unknown command 14 (removed dirty pages)", """
                2000 0e00 18000000 00000000 00000000 // id 32, command 14, size 24
                0000000000000000                     // payload, not interpreted
                """, new Unknown(new Header(32, 14, 24, 0, 0)), 32).decodeOnly());
    }

    static List<Golden> everything() {
        return java.util.stream.Stream.concat(GoldenSetupVectors.all().stream(), all().stream()).toList();
    }
}
