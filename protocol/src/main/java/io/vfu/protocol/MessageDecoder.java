package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * Turns one framed message into a {@link Message}. Decoding order (spec "Header" and "Message sizes"):
 * the header is validated ({@code 16 <= size <= maxMessageSize}, known type), the payload is exactly
 * {@code size - 16} bytes, the fd count is within {@code maxMsgFds}, then each command checks its inner
 * lengths and counts against the bytes present and {@code maxDataXferSize} before it allocates anything.
 *
 * <p>Data fields of the result are read-only views of {@code payload} (zero copy): keep the buffer
 * untouched while the message is in use. The decoder never touches fds; it only checks how many arrived.
 */
public final class MessageDecoder {

    private MessageDecoder() {
    }

    /**
     * Decodes one message.
     *
     * @param header  the decoded header
     * @param payload exactly {@code header.size() - 16} bytes (from position to limit); not consumed
     * @param fdCount how many fds arrived with the message
     * @param limits  the session's receive limits
     * @return the message; {@link Unknown} for a command number we do not know; {@link ErrorReply} for a
     *         reply with the Error flag
     * @throws FramingException the header or payload length is broken: close the session
     * @throws MessageException the message is bad: answer (a command) with its errno
     */
    public static Message decode(Header header, ByteBuffer payload, int fdCount, Limits limits)
            throws ProtocolException {
        header.validate(limits.maxMessageSize());
        if (payload.remaining() != header.payloadSize()) {
            throw new FramingException("payload is " + payload.remaining() + " bytes, header says "
                    + header.payloadSize());
        }
        if (fdCount < 0) {
            throw new IllegalArgumentException("fdCount " + fdCount);
        }
        Payload p = new Payload(payload);
        if (header.isReply() && header.isError()) {
            // Rule: an error reply is the header alone.
            p.requireSize(0, "error reply");
            Checks.noFds(fdCount, "error reply");
            return new ErrorReply(header.command(), header.error());
        }
        Command command = Command.fromCode(header.command());
        if (command == null) {
            return new Unknown(header);
        }
        // Rule: never more fds than we said we can receive.
        if (fdCount > limits.maxMsgFds()) {
            throw Checks.inval("message carries " + fdCount + " fds, max_msg_fds is " + limits.maxMsgFds());
        }
        if (header.isCommand()) {
            if (header.isError()) {
                throw Checks.inval("a command has the Error flag set");
            }
            return request(command, p, fdCount, limits);
        }
        return reply(command, p, fdCount, limits);
    }

    private static Message.Request request(Command c, Payload p, int fds, Limits l) throws MessageException {
        return switch (c) {
            case VERSION -> Version.decodeRequest(p, fds);
            case DMA_MAP -> DmaMap.decodeRequest(p, fds);
            case DMA_UNMAP -> DmaUnmap.decodeRequest(p, fds);
            case DEVICE_GET_INFO -> DeviceGetInfo.decodeRequest(p, fds);
            case DEVICE_GET_REGION_INFO -> DeviceGetRegionInfo.decodeRequest(p, fds);
            case DEVICE_GET_REGION_IO_FDS -> DeviceGetRegionIoFds.decodeRequest(p, fds);
            case DEVICE_GET_IRQ_INFO -> DeviceGetIrqInfo.decodeRequest(p, fds);
            case DEVICE_SET_IRQS -> DeviceSetIrqs.decodeRequest(p, fds);
            case REGION_READ -> RegionRead.decodeRequest(p, fds, l);
            case REGION_WRITE -> RegionWrite.decodeRequest(p, fds, l);
            case DMA_READ -> DmaRead.decodeRequest(p, fds, l);
            case DMA_WRITE -> DmaWrite.decodeRequest(p, fds, l);
            case DEVICE_RESET -> DeviceReset.decodeRequest(p, fds);
            case REGION_WRITE_MULTI -> RegionWriteMulti.decodeRequest(p, fds);
            case DEVICE_FEATURE -> DeviceFeature.decodeRequest(p, fds);
            case MIG_DATA_READ -> MigDataRead.decodeRequest(p, fds, l);
            case MIG_DATA_WRITE -> MigDataWrite.decodeRequest(p, fds, l);
        };
    }

    private static Message.Reply reply(Command c, Payload p, int fds, Limits l) throws MessageException {
        return switch (c) {
            case VERSION -> Version.decodeReply(p, fds);
            case DMA_MAP -> DmaMap.decodeReply(p, fds);
            case DMA_UNMAP -> DmaUnmap.decodeReply(p, fds);
            case DEVICE_GET_INFO -> DeviceGetInfo.decodeReply(p, fds);
            case DEVICE_GET_REGION_INFO -> DeviceGetRegionInfo.decodeReply(p, fds);
            case DEVICE_GET_REGION_IO_FDS -> DeviceGetRegionIoFds.decodeReply(p, fds);
            case DEVICE_GET_IRQ_INFO -> DeviceGetIrqInfo.decodeReply(p, fds);
            case DEVICE_SET_IRQS -> DeviceSetIrqs.decodeReply(p, fds);
            case REGION_READ -> RegionRead.decodeReply(p, fds, l);
            case REGION_WRITE -> RegionWrite.decodeReply(p, fds, l);
            case DMA_READ -> DmaRead.decodeReply(p, fds, l);
            case DMA_WRITE -> DmaWrite.decodeReply(p, fds, l);
            case DEVICE_RESET -> DeviceReset.decodeReply(p, fds);
            case REGION_WRITE_MULTI -> RegionWriteMulti.decodeReply(p, fds);
            case DEVICE_FEATURE -> DeviceFeature.decodeReply(p, fds);
            case MIG_DATA_READ -> MigDataRead.decodeReply(p, fds, l);
            case MIG_DATA_WRITE -> MigDataWrite.decodeReply(p, fds);
        };
    }

    /**
     * Convenience for a whole message in one buffer: header then payload. Consumes the message from
     * {@code buf}. The payload view stays backed by {@code buf}.
     */
    public static Message decode(ByteBuffer buf, int fdCount, Limits limits) throws ProtocolException {
        Header h = Header.decode(buf);
        h.validate(limits.maxMessageSize());
        if (buf.remaining() < h.payloadSize()) {
            throw new FramingException("truncated message: " + buf.remaining() + " of " + h.payloadSize()
                    + " payload bytes");
        }
        ByteBuffer payload = buf.slice(buf.position(), h.payloadSize());
        buf.position(buf.position() + h.payloadSize());
        return decode(h, payload, fdCount, limits);
    }
}
