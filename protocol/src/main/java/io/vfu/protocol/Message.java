package io.vfu.protocol;

import java.nio.ByteBuffer;

/**
 * Every decoded vfio-user message. The hierarchy is sealed so a server can dispatch with a pattern
 * {@code switch} with no {@code default}: a new command does not compile until it is handled.
 *
 * <p>{@link Request}s are commands (header type 0), {@link Reply}s are successful replies (type 1). An
 * {@link ErrorReply} answers any command; {@link Unknown} is a well-framed message with a command number we
 * do not know.
 */
public sealed interface Message permits Message.Request, Message.Reply, Unknown, ErrorReply {

    /** The wire command number (u16). */
    int commandCode();

    /** Bytes after the 16-byte header when encoded. */
    int payloadSize();

    /**
     * Writes exactly {@link #payloadSize()} bytes at {@code out}'s position. {@code out} is little-endian and
     * has room; callers normally go through {@link MessageEncoder}.
     */
    void writePayload(ByteBuffer out);

    /** A command message. */
    sealed interface Request extends Message permits
            Version.Request, DmaMap.Request, DmaUnmap.Request, DeviceGetInfo.Request,
            DeviceGetRegionInfo.Request, DeviceGetRegionIoFds.Request, DeviceGetIrqInfo.Request,
            DeviceSetIrqs.Request, RegionRead.Request, RegionWrite.Request, DmaRead.Request, DmaWrite.Request,
            DeviceReset.Request, RegionWriteMulti.Request, DeviceFeature.Request, MigDataRead.Request,
            MigDataWrite.Request {

        Command command();

        @Override
        default int commandCode() {
            return command().code();
        }
    }

    /** A successful reply. */
    sealed interface Reply extends Message permits
            Version.Reply, DmaMap.Reply, DmaUnmap.Reply, DeviceGetInfo.Reply,
            DeviceGetRegionInfo.Reply, DeviceGetRegionIoFds.Reply, DeviceGetIrqInfo.Reply,
            DeviceSetIrqs.Reply, RegionRead.Reply, RegionWrite.Reply, DmaRead.Reply, DmaWrite.Reply,
            DeviceReset.Reply, RegionWriteMulti.Reply, DeviceFeature.Reply, MigDataRead.Reply,
            MigDataWrite.Reply {

        Command command();

        @Override
        default int commandCode() {
            return command().code();
        }
    }
}
