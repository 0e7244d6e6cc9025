package io.vfu.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** VERSION JSON rules and negotiation against exactly what QEMU 11.1.3 sends and accepts. */
class VersionTest {

    static final Limits LIMITS = Limits.DEFAULT;

    /** A VERSION request carrying {@code data} as its version data (no NUL added). */
    static byte[] request(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(20 + data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 1).putShort((short) 1).putInt(20 + data.length).putInt(0).putInt(0);
        b.putShort((short) 0).putShort((short) 0).put(data);
        return b.array();
    }

    static byte[] json(String s) {
        byte[] t = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(t, t.length + 1);
    }

    static Capabilities caps(String s) throws ProtocolException {
        return ((Version.Request) Vectors.decode(request(json(s)), 0, LIMITS)).capabilities();
    }

    @Test
    void qemuProposalDecodesToItsValues() throws ProtocolException {
        assertEquals(GoldenSetupVectors.QEMU_CAPS, caps(GoldenSetupVectors.QEMU_JSON));
    }

    @Test
    void missingNulIsEinval() {
        byte[] noNul = GoldenSetupVectors.QEMU_JSON.getBytes(StandardCharsets.UTF_8);
        Vectors.assertErrno(Errno.EINVAL, request(noNul), 0, LIMITS);
    }

    @Test
    void nulInsideTheJsonIsEinval() {
        Vectors.assertErrno(Errno.EINVAL, request(json("{}\0{}")), 0, LIMITS);
    }

    @Test
    void badJsonIsEinval() {
        for (String bad : new String[] {"", "{", "[]", "42", "{\"capabilities\": 5}", "{} {}",
            "{\"capabilities\": {\"max_msg_fds\": -1}}", "{\"capabilities\": {\"max_msg_fds\": 1.5}}",
            "{\"capabilities\": {\"max_msg_fds\": \"16\"}}", "{\"capabilities\": {\"max_msg_fds\": 4294967296}}",
            "{\"capabilities\": {\"max_data_xfer_size\": 18446744073709551616}}",
            "{\"capabilities\": {\"write_multiple\": 1}}", "{\"capabilities\": {\"migration\": []}}",
            "{\"capabilities\": {\"twin_socket\": {\"supported\": \"yes\"}}}",
            "{\"capabilities\": {\"pgsizes\": 4096, \"pgsizes\": 8192}}"}) {
            Vectors.assertErrno(Errno.EINVAL, request(json(bad)), 0, LIMITS);
        }
        Vectors.assertErrno(Errno.EINVAL, request(new byte[] {'{', (byte) 0xC3, '}', 0}), 0, LIMITS);
    }

    @Test
    void absentDataAndAbsentKeysMeanSpecDefaults() throws ProtocolException {
        Version.Request bare = (Version.Request) Vectors.decode(request(new byte[0]), 0, LIMITS);
        assertEquals(Capabilities.DEFAULTS, bare.capabilities());
        assertEquals(Capabilities.DEFAULTS, caps("{}"));
        assertEquals(Capabilities.DEFAULTS, caps("{\"capabilities\": {}}"));
        assertEquals(1, Capabilities.DEFAULTS.maxMsgFds());
        assertEquals(1 << 20, Capabilities.DEFAULTS.maxDataXferSize());
        assertEquals(65535, Capabilities.DEFAULTS.maxDmaMaps());
        assertEquals(4096, Capabilities.DEFAULTS.pgsizes());
        assertEquals(new Capabilities.Migration(4096, 256L << 20),
                caps("{\"capabilities\": {\"migration\": {}}}").migration().orElseThrow());
    }

    @Test
    void unknownKeysAreIgnored() throws ProtocolException {
        assertEquals(Capabilities.DEFAULTS.withMaxMsgFds(3),
                caps("{\"capabilities\": {\"max_msg_fds\": 3, \"future\": {\"x\": [1]}}, \"other\": true}"));
    }

    @Test
    void twinSocketFdIndexMustNameAReceivedFd() throws ProtocolException {
        Golden g = Vectors.named("VERSION reply, migration");
        assertEquals(g.expected(), Vectors.decode(g.bytes(), 1, Limits.of(1 << 20, 4)));
        Vectors.assertErrno(Errno.EINVAL, g.bytes(), 0, Limits.of(1 << 20, 4));
        Vectors.assertErrno(Errno.EINVAL, Vectors.named("VERSION request from QEMU").bytes(), 1, Limits.of(1 << 20, 4));
    }

    @Test
    void negotiationWithQemuGivesAReplyQemuAccepts() throws Exception {
        Version.Request qemu = (Version.Request) Vectors.named("VERSION request from QEMU").expected();
        Capabilities server = new Capabilities(64, 256L << 20, 100_000, 4096 | 65536, Optional.empty(), true,
                Optional.of(new Capabilities.TwinSocket(true, OptionalInt.empty())));
        VersionNegotiation.Result res = VersionNegotiation.negotiate(qemu, server);
        Version.Reply reply = res.reply();
        assertEquals(0, reply.major());
        assertEquals(0, reply.minor());
        Capabilities c = reply.capabilities();
        assertEquals(16, c.maxMsgFds(), "QEMU rejects more than 16");
        assertEquals(1 << 20, c.maxDataXferSize(), "not above what QEMU proposed");
        assertEquals(65535, c.maxDmaMaps());
        assertEquals(4096, c.pgsizes());
        assertTrue(c.writeMultiple());
        assertEquals(Optional.empty(), c.migration(), "the server did not offer migration");
        assertEquals(Optional.empty(), c.twinSocket(), "QEMU did not propose twin sockets");
        assertFalse(res.twinSocket());
        assertEquals(Limits.of(1 << 20, 16), res.inbound());
        assertEquals(Limits.of(1 << 20, 16), res.outbound());
        assertQemuAccepts(MessageEncoder.encode(0, reply, 0));
    }

    @Test
    void negotiationClampsToQemuMaxima() throws Exception {
        Version.Request big = new Version.Request(0, 5, new Capabilities(100, 1L << 40, 1L << 40, -1L >>> 1,
                Optional.of(new Capabilities.Migration(4096, 1L << 40)), true, Optional.empty()));
        Capabilities server = new Capabilities(1000, 1L << 40, 1L << 40, 4096,
                Optional.of(new Capabilities.Migration(8192, 1L << 40)), false, Optional.empty());
        assertEquals(3, VersionNegotiation.negotiate(big, 0, 3, server).reply().minor(), "minor is the lesser");
        Version.Reply reply = VersionNegotiation.negotiate(big, server).reply();
        assertEquals(0, reply.minor());
        assertEquals(16, reply.capabilities().maxMsgFds());
        assertEquals(64L << 20, reply.capabilities().maxDataXferSize());
        assertEquals(65535, reply.capabilities().maxDmaMaps());
        assertEquals(new Capabilities.Migration(8192, 256L << 20), reply.capabilities().migration().orElseThrow());
        assertFalse(reply.capabilities().writeMultiple(), "only when both offer it");
        assertQemuAccepts(MessageEncoder.encode(0, reply, 0));
    }

    @Test
    void twinSocketOnlyWhenBothSupportIt() throws Exception {
        Version.Request client = new Version.Request(0, 0, Capabilities.DEFAULTS
                .withTwinSocket(Optional.of(new Capabilities.TwinSocket(true, OptionalInt.empty()))));
        Capabilities server = Capabilities.DEFAULTS
                .withTwinSocket(Optional.of(new Capabilities.TwinSocket(true, OptionalInt.empty())));
        VersionNegotiation.Result res = VersionNegotiation.negotiate(client, server);
        assertTrue(res.twinSocket());
        assertEquals(Optional.of(new Capabilities.TwinSocket(true, OptionalInt.of(0))),
                res.reply().capabilities().twinSocket());
    }

    @Test
    void anotherMajorClosesTheSession() {
        Version.Request v1 = new Version.Request(1, 0, Capabilities.DEFAULTS);
        assertThrows(FramingException.class, () -> VersionNegotiation.negotiate(v1, Capabilities.DEFAULTS));
    }

    @Test
    void noCommonPageSizeIsEinval() {
        // The client offers only 8 KiB pages; this server maps 4 KiB pages only. An error reply tells the
        // client why, where closing the socket would not.
        Version.Request c = new Version.Request(0, 0, new Capabilities(1, 1 << 20, 10, 8192, Optional.empty(),
                false, Optional.empty()));
        MessageException e = assertThrows(MessageException.class,
                () -> VersionNegotiation.negotiate(c, Capabilities.DEFAULTS));
        assertEquals(Errno.EINVAL, e.errno());
    }

    /**
     * One capability value at a time that no sender can mean is EINVAL, as a malformed VERSION is; the bounds
     * themselves are accepted.
     */
    @Test
    void capabilityValuesAreBounded() throws ProtocolException {
        for (String bad : new String[] {
            "{\"capabilities\": {\"max_data_xfer_size\": 0}}",
            "{\"capabilities\": {\"max_data_xfer_size\": 7}}",
            "{\"capabilities\": {\"max_msg_fds\": 254}}",
            "{\"capabilities\": {\"pgsizes\": 0}}",
            "{\"capabilities\": {\"pgsizes\": 2048}}",
            "{\"capabilities\": {\"pgsizes\": 4097}}",
            "{\"capabilities\": {\"max_dma_maps\": 0}}",
            "{\"capabilities\": {\"migration\": {\"pgsize\": 0}}}",
            "{\"capabilities\": {\"migration\": {\"pgsize\": 12288}}}",
            "{\"capabilities\": {\"migration\": {\"pgsize\": 2048}}}",
            "{\"capabilities\": {\"migration\": {\"max_bitmap_size\": 0}}}",
            "{\"capabilities\": {\"twin_socket\": {\"supported\": true, \"fd_index\": 0}}}"}) {
            Vectors.assertErrno(Errno.EINVAL, request(json(bad)), 0, LIMITS);
        }
        assertEquals(8, caps("{\"capabilities\": {\"max_data_xfer_size\": 8}}").maxDataXferSize());
        assertEquals(0, caps("{\"capabilities\": {\"max_msg_fds\": 0}}").maxMsgFds(), "a client taking no fds");
        assertEquals(253, caps("{\"capabilities\": {\"max_msg_fds\": 253}}").maxMsgFds(), "SCM_MAX_FD");
        assertEquals(1, caps("{\"capabilities\": {\"max_dma_maps\": 1}}").maxDmaMaps());
        assertEquals(4096 | (2L << 20) | (1L << 30),
                caps("{\"capabilities\": {\"pgsizes\": 1075843072}}").pgsizes(), "4 KiB, 2 MiB and 1 GiB pages");
        assertEquals(8192, caps("{\"capabilities\": {\"pgsizes\": 8192}}").pgsizes(),
                "a page-size set without 4 KiB decodes; negotiation decides whether it fits");
    }

    /** The checks QEMU 11.1.3's vfio_user_validate_version applies to a reply, written from its behaviour. */
    static void assertQemuAccepts(ByteBuffer wire) throws Exception {
        Header h = Header.decode(wire);
        wire.order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertTrue(h.isReply() && !h.isError());
        assertEquals(0, wire.getShort() & 0xFFFF, "major");
        assertEquals(0, wire.getShort() & 0xFFFF, "minor <= 0");
        byte[] rest = new byte[wire.remaining()];
        wire.get(rest);
        assertEquals(0, rest[rest.length - 1], "NUL-terminated");
        JsonNode root = new ObjectMapper().readTree(new String(rest, 0, rest.length - 1, StandardCharsets.UTF_8));
        assertEquals(1, root.size(), "only capabilities at the top");
        JsonNode caps = root.get("capabilities");
        for (Iterator<String> it = caps.fieldNames(); it.hasNext();) {
            String k = it.next();
            assertTrue(java.util.Set.of("max_msg_fds", "max_data_xfer_size", "pgsizes", "max_dma_maps",
                    "migration", "write_multiple").contains(k), "QEMU knows " + k);
        }
        assertTrue(caps.get("max_msg_fds").asLong() <= 16);
        assertTrue(caps.get("max_data_xfer_size").asLong() <= 64L << 20);
        assertTrue(caps.get("max_dma_maps").asLong() <= 65535);
        assertEquals(0, caps.get("pgsizes").asLong() & 4095, "pgsizes multiple of 4096");
        if (caps.has("migration")) {
            assertEquals(0, caps.get("migration").get("pgsize").asLong() & 4095);
            assertTrue(caps.get("migration").get("max_bitmap_size").asLong() <= 256L << 20);
        }
        if (caps.has("write_multiple")) {
            assertTrue(caps.get("write_multiple").isBoolean());
        }
    }
}
