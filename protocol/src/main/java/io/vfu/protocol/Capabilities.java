package io.vfu.protocol;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The {@code capabilities} object of a VERSION message (spec "VFIO_USER_VERSION"). Absent keys decode to
 * the spec defaults; see {@link CapabilitiesJson} for the JSON rules.
 *
 * @param maxMsgFds       most fds the sender can receive in one message (default 1)
 * @param maxDataXferSize largest data count the sender accepts (default 1 MiB)
 * @param maxDmaMaps      most DMA windows valid at once (default 65535)
 * @param pgsizes         DMA map page sizes, or'ed (default 4096)
 * @param migration       migration parameters, when offered
 * @param writeMultiple   REGION_WRITE_MULTI supported (absent means false)
 * @param twinSocket      twin-socket parameters, when present
 */
public record Capabilities(int maxMsgFds, long maxDataXferSize, long maxDmaMaps, long pgsizes,
                           Optional<Migration> migration, boolean writeMultiple,
                           Optional<TwinSocket> twinSocket) {

    public static final int DEFAULT_MAX_MSG_FDS = 1;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;
    public static final long DEFAULT_MAX_DMA_MAPS = 65535;
    public static final long DEFAULT_PGSIZES = 4096;

    /** Every key absent. */
    public static final Capabilities DEFAULTS = new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE,
            DEFAULT_MAX_DMA_MAPS, DEFAULT_PGSIZES, Optional.empty(), false, Optional.empty());

    public Capabilities {
        if (maxMsgFds < 0 || maxDataXferSize < 0 || maxDmaMaps < 0) {
            throw new IllegalArgumentException("capability values are non-negative");
        }
    }

    /**
     * Migration parameters.
     *
     * @param pgsize        dirty-tracking page size (default 4096)
     * @param maxBitmapSize largest dirty bitmap in bytes (default 256 MiB)
     */
    public record Migration(long pgsize, long maxBitmapSize) {
        public static final long DEFAULT_PGSIZE = 4096;
        public static final long DEFAULT_MAX_BITMAP_SIZE = 256L << 20;

        public Migration {
            if (pgsize < 0 || maxBitmapSize < 0) {
                throw new IllegalArgumentException("migration values are non-negative");
            }
        }
    }

    /**
     * Twin-socket parameters.
     *
     * @param supported whether the sender supports (request) or enabled (reply) twin-socket mode
     * @param fdIndex   in a reply, which of the message's fds is the server-to-client socket
     */
    public record TwinSocket(boolean supported, OptionalInt fdIndex) {
        public TwinSocket {
            if (fdIndex.isPresent() && fdIndex.getAsInt() < 0) {
                throw new IllegalArgumentException("fd_index is non-negative");
            }
        }
    }

    public Capabilities withMaxMsgFds(int v) {
        return new Capabilities(v, maxDataXferSize, maxDmaMaps, pgsizes, migration, writeMultiple, twinSocket);
    }

    public Capabilities withMaxDataXferSize(long v) {
        return new Capabilities(maxMsgFds, v, maxDmaMaps, pgsizes, migration, writeMultiple, twinSocket);
    }

    public Capabilities withMigration(Optional<Migration> v) {
        return new Capabilities(maxMsgFds, maxDataXferSize, maxDmaMaps, pgsizes, v, writeMultiple, twinSocket);
    }

    public Capabilities withWriteMultiple(boolean v) {
        return new Capabilities(maxMsgFds, maxDataXferSize, maxDmaMaps, pgsizes, migration, v, twinSocket);
    }

    public Capabilities withTwinSocket(Optional<TwinSocket> v) {
        return new Capabilities(maxMsgFds, maxDataXferSize, maxDmaMaps, pgsizes, migration, writeMultiple, v);
    }
}
