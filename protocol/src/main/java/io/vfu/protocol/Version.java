package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VFIO_USER_VERSION}. Request and reply: {@code major u16, minor u16}, then optional version data:
 * UTF-8 JSON terminated by NUL ({@link CapabilitiesJson}). With no version data the capabilities are the
 * defaults. We always send the JSON.
 *
 * <p>Errors (EINVAL): payload under 4 bytes; version data whose last byte is not NUL or with a NUL before the
 * end; malformed JSON; a capability outside its bounds ({@link CapabilityBounds}); a request naming a
 * twin_socket fd_index. Fds: a request carries none; a reply carries none unless it enables twin-socket
 * mode, in which case fd_index must name one of the received fds.
 */
public final class Version {

    public static final int FIXED = 4;

    private Version() {
    }

    public record Request(int major, int minor, Capabilities capabilities) implements Message.Request {

        public Request {
            Checks.u16(major, "major");
            Checks.u16(minor, "minor");
        }

        @Override
        public Command command() {
            return Command.VERSION;
        }

        @Override
        public int payloadSize() {
            return size(capabilities);
        }

        @Override
        public void writePayload(ByteBuffer out) {
            write(major, minor, capabilities, out);
        }
    }

    public record Reply(int major, int minor, Capabilities capabilities) implements Message.Reply {

        public Reply {
            Checks.u16(major, "major");
            Checks.u16(minor, "minor");
        }

        @Override
        public Command command() {
            return Command.VERSION;
        }

        @Override
        public int payloadSize() {
            return size(capabilities);
        }

        @Override
        public void writePayload(ByteBuffer out) {
            write(major, minor, capabilities, out);
        }
    }

    private static int size(Capabilities c) {
        return FIXED + CapabilitiesJson.write(c).length + 1;
    }

    private static void write(int major, int minor, Capabilities c, ByteBuffer out) {
        out.putShort((short) major).putShort((short) minor).put(CapabilitiesJson.write(c)).put((byte) 0);
    }

    static Version.Request decodeRequest(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "VERSION");
        Checks.noFds(fdCount, "VERSION");
        Version.Request r = new Version.Request(p.u16(0), p.u16(2), capabilities(p));
        // Rule (spec, twin_socket table): fd_index is "only valid in the reply message".
        if (r.capabilities().twinSocket().map(t -> t.fdIndex().isPresent()).orElse(false)) {
            throw Checks.inval("VERSION: twin_socket fd_index in a request");
        }
        return r;
    }

    static Version.Reply decodeReply(Payload p, int fdCount) throws MessageException {
        p.requireAtLeast(FIXED, "VERSION reply");
        Version.Reply r = new Version.Reply(p.u16(0), p.u16(2), capabilities(p));
        // Rule: fds only for an enabled twin socket, and fd_index names one of them.
        var twin = r.capabilities().twinSocket().filter(Capabilities.TwinSocket::supported);
        if (twin.isPresent() && twin.get().fdIndex().isPresent()) {
            if (twin.get().fdIndex().getAsInt() >= fdCount) {
                throw Checks.inval("VERSION reply: twin_socket fd_index outside the " + fdCount + " fds");
            }
        } else {
            Checks.noFds(fdCount, "VERSION reply");
        }
        return r;
    }

    private static Capabilities capabilities(Payload p) throws MessageException {
        int len = p.size() - FIXED;
        if (len == 0) {
            return Capabilities.DEFAULTS;
        }
        ByteBuffer data = p.bytes(FIXED, len);
        // Rule: the version data is NUL-terminated, with the NUL as its last byte and nowhere before.
        if (data.get(len - 1) != 0) {
            throw Checks.inval("VERSION: version data is not NUL-terminated");
        }
        byte[] json = new byte[len - 1];
        data.get(0, json);
        for (byte b : json) {
            if (b == 0) {
                throw Checks.inval("VERSION: NUL inside the version data");
            }
        }
        return CapabilitiesJson.parse(json, 0, json.length);
    }
}
