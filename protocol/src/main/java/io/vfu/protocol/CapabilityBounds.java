package io.vfu.protocol;

/**
 * The values a VERSION capability may take (spec "VFIO_USER_VERSION", capabilities table). The spec gives
 * each number's meaning and default, not a range; these bounds reject values no sender can mean, because
 * accepting one leaves a session that fails every later command (a max_data_xfer_size of 0 answers every
 * access E2BIG). Each violation is EINVAL, as a malformed VERSION is.
 */
final class CapabilityBounds {

    /**
     * Smallest max_data_xfer_size: one access to a 64-bit register, the largest single access a PCI BAR takes
     * and the most a REGION_WRITE_MULTI entry carries (spec "VFIO_USER_REGION_WRITE_MULTI": 8 bytes or less).
     */
    static final long MIN_DATA_XFER_SIZE = 8;
    /** Largest max_msg_fds: Linux SCM_MAX_FD, the most descriptors one Unix-socket message can carry. */
    static final int MAX_MSG_FDS = 253;
    /** Smallest DMA or dirty-tracking page: 4 KiB, the smallest page mmap(2) maps on the hosts we serve. */
    static final long MIN_PAGE_SIZE = 4096;

    private CapabilityBounds() {
    }

    /** Throws EINVAL naming the first capability of {@code c} outside its bounds. */
    static void check(Capabilities c) throws MessageException {
        // Rule: at least one 8-byte register access fits a message.
        if (c.maxDataXferSize() < MIN_DATA_XFER_SIZE) {
            throw Checks.inval("VERSION: max_data_xfer_size " + c.maxDataXferSize() + " is below "
                    + MIN_DATA_XFER_SIZE);
        }
        // Rule: no more fds than one SCM_RIGHTS message can hold (0 is a peer that takes none).
        if (c.maxMsgFds() > MAX_MSG_FDS) {
            throw Checks.inval("VERSION: max_msg_fds " + c.maxMsgFds() + " exceeds " + MAX_MSG_FDS);
        }
        // Rule: a peer that can keep no DMA window cannot be served.
        if (c.maxDmaMaps() == 0) {
            throw Checks.inval("VERSION: max_dma_maps is zero");
        }
        // Rule: pgsizes is a non-empty set of page sizes, none under 4 KiB.
        if (c.pgsizes() == 0 || (c.pgsizes() & (MIN_PAGE_SIZE - 1)) != 0) {
            throw Checks.inval("VERSION: pgsizes 0x" + Long.toHexString(c.pgsizes())
                    + " is empty or has a page size under 4 KiB");
        }
        if (c.migration().isPresent()) {
            Capabilities.Migration m = c.migration().get();
            // Rule: the dirty-tracking page is one page size (a power of two), at least 4 KiB.
            if (Long.bitCount(m.pgsize()) != 1 || m.pgsize() < MIN_PAGE_SIZE) {
                throw Checks.inval("VERSION: migration pgsize " + m.pgsize() + " is not a page size");
            }
            // Rule: a dirty bitmap of zero bytes can describe no page.
            if (m.maxBitmapSize() == 0) {
                throw Checks.inval("VERSION: migration max_bitmap_size is zero");
            }
        }
    }
}
