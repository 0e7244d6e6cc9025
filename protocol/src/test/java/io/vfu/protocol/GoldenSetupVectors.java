package io.vfu.protocol;

import static io.vfu.protocol.Hex.ascii;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Hand-written vectors for session setup and device discovery, from the spec tables. Header layout:
 * {@code msg_id u16 | command u16 | size u32 | flags u32 | error u32}, little-endian. Flags 0 = command,
 * 1 = reply, 0x10 = No_reply, 0x21 = error reply.
 */
final class GoldenSetupVectors {

    private GoldenSetupVectors() {
    }

    /** Exactly what QEMU 11.1.3 sends (QDict hash order, ", " and ": " separators). */
    static final String QEMU_JSON = "{\"capabilities\": {\"pgsizes\": 4096, \"max_msg_fds\": 16, "
            + "\"max_dma_maps\": 65535, \"max_data_xfer_size\": 1048576, \"migration\": "
            + "{\"max_bitmap_size\": 268435456, \"pgsize\": 4096}, \"write_multiple\": true}}";

    static final Capabilities QEMU_CAPS = new Capabilities(16, 1048576, 65535, 4096,
            Optional.of(new Capabilities.Migration(4096, 268435456)), true, Optional.empty());

    static List<Golden> all() {
        return List.of(
            Golden.of("VERSION request from QEMU 11.1.3", """
                0000 0100 d6000000 00000000 00000000 // id 0, VERSION, size 16+4+193+1=214, command
                0000 0000                            // major 0, minor 0
                """ + ascii(QEMU_JSON) + " 00        // JSON, NUL",
                new Version.Request(0, 0, QEMU_CAPS), 0).decodeOnly(),
            Golden.of("VERSION request, defaults", """
                0100 0100 78000000 00000000 00000000 // id 1, VERSION, size 120
                0000 0000                            // major 0, minor 0
                """ + ascii("{\"capabilities\":{\"max_msg_fds\":1,\"max_data_xfer_size\":1048576,"
                    + "\"max_dma_maps\":65535,\"pgsizes\":4096}}") + " 00",
                new Version.Request(0, 0, Capabilities.DEFAULTS), 1),
            Golden.of("VERSION reply", """
                0000 0100 8f000000 01000000 00000000 // id 0, VERSION, size 143, reply
                0000 0000                            // major 0, minor 0
                """ + ascii("{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
                    + "\"max_dma_maps\":65535,\"pgsizes\":4096,\"write_multiple\":true}}") + " 00",
                new Version.Reply(0, 0, Capabilities.DEFAULTS.withMaxMsgFds(16).withWriteMultiple(true)), 0),
            Golden.of("VERSION reply, migration and twin socket", """
                0200 0100 d8000000 01000000 00000000 // id 2, VERSION, size 216, reply
                0000 0000                            // major 0, minor 0
                """ + ascii("{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":65536,"
                    + "\"max_dma_maps\":128,\"pgsizes\":4096,\"migration\":{\"pgsize\":4096,"
                    + "\"max_bitmap_size\":1048576},\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}") + " 00",
                new Version.Reply(0, 0, new Capabilities(8, 65536, 128, 4096,
                    Optional.of(new Capabilities.Migration(4096, 1048576)), false,
                    Optional.of(new Capabilities.TwinSocket(true, OptionalInt.of(0))))), 2).fds(1),
            Golden.of("DMA_MAP request with fd", """
                0201 0200 30000000 00000000 00000000 // id 0x102, DMA_MAP, size 48, command
                20000000                             // argsz 32
                03000000                             // flags READ|WRITE
                0010000000000000                     // offset 0x1000
                0000000001000000                     // address 0x1_0000_0000
                0000004000000000                     // size 0x4000_0000
                """, new DmaMap.Request(32, 3, 0x1000, 0x1_0000_0000L, 0x4000_0000L), 0x102).fds(1),
            Golden.of("DMA_MAP reply", """
                0201 0200 10000000 01000000 00000000 // id 0x102, DMA_MAP, size 16, reply
                """, new DmaMap.Reply(), 0x102),
            Golden.of("DMA_UNMAP request", """
                0300 0300 28000000 00000000 00000000 // id 3, DMA_UNMAP, size 40
                18000000                             // argsz 24
                00000000                             // flags 0
                0000000001000000                     // address 0x1_0000_0000
                0000004000000000                     // size 0x4000_0000
                """, new DmaUnmap.Request(24, 0, 0x1_0000_0000L, 0x4000_0000L), 3),
            Golden.of("DMA_UNMAP request, unmap all (as QEMU sends)", """
                0400 0300 28000000 00000000 00000000 // id 4, DMA_UNMAP, size 40
                18000000                             // argsz 24
                02000000                             // flags UNMAP_ALL
                0000000000000000                     // address 0
                0000000000000000                     // size 0
                """, new DmaUnmap.Request(24, 2, 0, 0), 4),
            Golden.of("DMA_UNMAP reply", """
                0300 0300 28000000 01000000 00000000 // id 3, DMA_UNMAP, size 40, reply
                18000000 00000000                    // argsz 24, flags 0
                0000000001000000 0000004000000000    // address, size echoed
                """, new DmaUnmap.Reply(24, 0, 0x1_0000_0000L, 0x4000_0000L), 3),
            Golden.of("DEVICE_GET_INFO request", """
                0500 0400 20000000 00000000 00000000 // id 5, DEVICE_GET_INFO, size 32
                10000000                             // argsz 16
                00000000 00000000 00000000           // flags, num_regions, num_irqs: zero
                """, new DeviceGetInfo.Request(16), 5),
            Golden.of("DEVICE_GET_INFO reply", """
                0500 0400 20000000 01000000 00000000 // id 5, DEVICE_GET_INFO, size 32, reply
                10000000                             // argsz 16
                03000000                             // flags RESET|PCI
                09000000                             // num_regions 9
                05000000                             // num_irqs 5
                """, new DeviceGetInfo.Reply(16, 3, 9, 5), 5),
            Golden.of("DEVICE_GET_REGION_INFO request", """
                0600 0500 30000000 00000000 00000000 // id 6, REGION_INFO, size 48
                20000000                             // argsz 32
                00000000                             // flags 0
                07000000                             // index 7 (config)
                00000000                             // cap_offset 0
                0000000000000000 0000000000000000    // size 0, offset 0
                """, new DeviceGetRegionInfo.Request(32, 7), 6),
            Golden.of("DEVICE_GET_REGION_INFO reply, no caps", """
                0600 0500 30000000 01000000 00000000 // id 6, REGION_INFO, size 48, reply
                20000000                             // argsz 32
                03000000                             // flags READ|WRITE
                07000000                             // index 7
                00000000                             // cap_offset 0
                0001000000000000                     // size 0x100
                0000000000000000                     // offset 0
                """, new DeviceGetRegionInfo.Reply(32, 3, 7, 0x100, 0, List.of()), 6),
            Golden.of("DEVICE_GET_REGION_INFO reply, sparse mmap and type caps", """
                0700 0500 70000000 01000000 00000000 // id 7, REGION_INFO, size 16+96=112, reply
                60000000                             // argsz 96 = 32 + 48 + 16
                0f000000                             // flags READ|WRITE|MMAP|CAPS
                00000000                             // index 0 (BAR0)
                20000000                             // cap_offset 32
                0040000000000000                     // size 0x4000
                0000000000000000                     // offset 0
                0100 0100 50000000                   // cap @32: id 1 sparse mmap, version 1, next 80
                02000000 00000000                    //   nr_areas 2, reserved
                0000000000000000 0010000000000000    //   area 0: offset 0, size 0x1000
                0030000000000000 0010000000000000    //   area 1: offset 0x3000, size 0x1000
                0200 0100 00000000                   // cap @80: id 2 type, version 1, next 0 (last)
                86800000 01000000                    //   type 0x8086, subtype 1
                """, new DeviceGetRegionInfo.Reply(96, 0xF, 0, 0x4000, 0, List.of(
                    new RegionInfoCap.SparseMmap(List.of(new RegionInfoCap.Area(0, 0x1000),
                        new RegionInfoCap.Area(0x3000, 0x1000))),
                    new RegionInfoCap.Type(0x8086, 1))), 7).fds(1),
            Golden.of("DEVICE_GET_REGION_INFO reply, truncated for a 32-byte argsz", """
                0800 0500 30000000 01000000 00000000 // id 8, REGION_INFO, size 48, reply
                60000000                             // argsz 96: what the full reply needs
                0f000000                             // flags READ|WRITE|MMAP|CAPS
                00000000                             // index 0
                20000000                             // cap_offset 32, where the caps start in the full reply:
                                                     // the spec leaves it open; QEMU 11.1.3 refuses CAPS with
                                                     // a cap_offset inside the info (0 too), verified live
                0040000000000000 0000000000000000    // size 0x4000, offset 0
                """, new DeviceGetRegionInfo.Reply(96, 0xF, 0, 0x4000, 0, List.of()), 8),
            Golden.of("DEVICE_GET_REGION_IO_FDS request", """
                0900 0600 20000000 00000000 00000000 // id 9, REGION_IO_FDS, size 32
                00010000                             // argsz 256
                00000000                             // flags 0
                00000000                             // index 0
                00000000                             // count 0
                """, new DeviceGetRegionIoFds.Request(256, 0), 9),
            Golden.of("DEVICE_GET_REGION_IO_FDS reply", """
                0900 0600 70000000 01000000 00000000 // id 9, REGION_IO_FDS, size 16+96=112, reply
                60000000 00000000 00000000 02000000  // argsz 96, flags 0, index 0, count 2
                0020000000000000 0400000000000000    // [0] offset 0x2000, size 4
                00000000 00000000                    //     fd_index 0, type 0 ioeventfd
                01000000 00000000                    //     flags DATAMATCH, padding
                3412000000000000                     //     datamatch 0x1234
                0030000000000000 0800000000000000    // [1] offset 0x3000, size 8
                01000000 01000000                    //     fd_index 1, type 1 ioregionfd
                00000000 00000000                    //     flags 0, padding
                efbeadde00000000                     //     user_data 0xdeadbeef
                """, DeviceGetRegionIoFds.Reply.full(0, List.of(
                    new IoFdSubRegion.IoEventFd(0x2000, 4, 0, 1, 0x1234),
                    new IoFdSubRegion.IoRegionFd(0x3000, 8, 1, 0, 0xdeadbeefL))), 9).fds(2),
            Golden.of("DEVICE_GET_REGION_IO_FDS reply, truncated", """
                0a00 0600 20000000 01000000 00000000 // id 10, REGION_IO_FDS, size 32, reply
                60000000 00000000 00000000 02000000  // argsz 96 needed, flags 0, index 0, count 2
                """, new DeviceGetRegionIoFds.Reply(0, 2, List.of()), 10),
            Golden.of("DEVICE_GET_IRQ_INFO request", """
                0b00 0700 20000000 00000000 00000000 // id 11, IRQ_INFO, size 32
                10000000 00000000                    // argsz 16, flags 0
                02000000 00000000                    // index 2 (MSI-X), count 0
                """, new DeviceGetIrqInfo.Request(16, 2), 11),
            Golden.of("DEVICE_GET_IRQ_INFO reply", """
                0b00 0700 20000000 01000000 00000000 // id 11, IRQ_INFO, size 32, reply
                10000000                             // argsz 16
                03000000                             // flags EVENTFD|MASKABLE
                02000000                             // index 2
                00080000                             // count 2048
                """, new DeviceGetIrqInfo.Reply(16, 3, 2, 2048), 11),
            Golden.of("DEVICE_SET_IRQS request, eventfd trigger", """
                0c00 0800 24000000 00000000 00000000 // id 12, SET_IRQS, size 36
                14000000                             // argsz 20
                24000000                             // flags DATA_EVENTFD|ACTION_TRIGGER
                02000000 03000000 01000000           // index 2, start 3, count 1
                """, new DeviceSetIrqs.Request(20, 0x24, 2, 3, 1, ByteBuffer.allocate(0)), 12).fds(1),
            Golden.of("DEVICE_SET_IRQS request, eventfd de-assign", """
                0f00 0800 24000000 00000000 00000000 // id 15, SET_IRQS, size 36
                14000000 24000000                    // argsz 20, flags DATA_EVENTFD|ACTION_TRIGGER
                02000000 05000000 02000000           // index 2, start 5, count 2; no fds
                """, new DeviceSetIrqs.Request(20, 0x24, 2, 5, 2, ByteBuffer.allocate(0)), 15),
            Golden.of("DEVICE_SET_IRQS request, bool mask", """
                0d00 0800 27000000 00000000 00000000 // id 13, SET_IRQS, size 39
                17000000                             // argsz 23 = 20 + 3
                0a000000                             // flags DATA_BOOL|ACTION_MASK
                02000000 00000000 03000000           // index 2, start 0, count 3
                01 00 01                             // data: mask 0 and 2
                """, new DeviceSetIrqs.Request(23, 0x0a, 2, 0, 3, Bytes.of((byte) 1, (byte) 0, (byte) 1)), 13),
            Golden.of("DEVICE_SET_IRQS request, disable index", """
                0e00 0800 24000000 00000000 00000000 // id 14, SET_IRQS, size 36
                14000000 21000000                    // argsz 20, flags DATA_NONE|ACTION_TRIGGER
                00000000 00000000 00000000           // index 0, start 0, count 0
                """, new DeviceSetIrqs.Request(20, 0x21, 0, 0, 0, ByteBuffer.allocate(0)), 14),
            Golden.of("DEVICE_SET_IRQS reply", """
                0c00 0800 10000000 01000000 00000000 // id 12, SET_IRQS, size 16, reply
                """, new DeviceSetIrqs.Reply(), 12));
    }
}
