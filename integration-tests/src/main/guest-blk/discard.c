#include "blk.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Reads [off, off+len) with O_DIRECT; true if every byte is zero. */
static bool reads_zero(int fd, uint64_t off, uint64_t len) {
    uint8_t *buf = aligned_buffer(BLOCK), *zero = calloc(1, BLOCK);
    bool ok = true;
    for (uint64_t o = off; o < off + len && ok; o += BLOCK) {
        ok = pread(fd, buf, BLOCK, (off_t)o) == BLOCK && memcmp(buf, zero, BLOCK) == 0;
        count_read(BLOCK);
        if (!ok) fail("block %llu is not zero", (unsigned long long)(o / BLOCK));
    }
    free(zero);
    free(buf);
    return ok;
}

/* The blocks just before and after a range keep the pattern: the operation did not reach past it. */
static bool neighbours_kept(int fd, uint64_t off, uint64_t len, uint64_t seed) {
    bool ok = off < BLOCK || pattern_check_range(fd, off - BLOCK, BLOCK, seed);
    uint64_t size = sysfs_u64("/sys/block/vda/size", 0) * 512;
    return (off + len + BLOCK > size || pattern_check_range(fd, off + len, BLOCK, seed)) && ok;
}

/*
 * Discard is only guaranteed to read back zeros if the device says so; our device punches holes in the image and
 * QEMU's does too with discard=unmap on a raw file, so zeros are expected from both. Write-zeroes (BLKZEROOUT)
 * must read zeros on any device; whether it went to the device as WRITE_ZEROES is write_zeroes_offered.
 */
struct discard_result discard_check(uint64_t discard_off, uint64_t discard_len, uint64_t zero_off,
                                    uint64_t zero_len, uint64_t seed) {
    struct discard_result r = {0};
    r.discard_offered = sysfs_u64("/sys/block/vda/queue/discard_max_bytes", 0) > 0;
    r.write_zeroes_offered = sysfs_u64("/sys/block/vda/queue/write_zeroes_max_bytes", 0) > 0;
    if (!r.discard_offered) fail("the device offers no discard (queue/discard_max_bytes is 0)");
    if (!r.write_zeroes_offered) fail("the device offers no write-zeroes (queue/write_zeroes_max_bytes is 0)");
    int fd = open(DISK, O_RDWR | O_DIRECT);
    if (fd < 0) {
        fail("cannot open " DISK " for discard");
        return r;
    }
    uint64_t range[2] = {discard_off, discard_len};
    if (ioctl(fd, BLKDISCARD, range) != 0) fail("BLKDISCARD failed");
    else r.discard_zeros = reads_zero(fd, discard_off, discard_len);
    uint64_t zrange[2] = {zero_off, zero_len};
    if (ioctl(fd, BLKZEROOUT, zrange) != 0) fail("BLKZEROOUT failed");
    else r.zeroout_zeros = reads_zero(fd, zero_off, zero_len);
    r.neighbours_ok = neighbours_kept(fd, discard_off, discard_len, seed) &&
                      neighbours_kept(fd, zero_off, zero_len, seed);
    close(fd);
    return r;
}
