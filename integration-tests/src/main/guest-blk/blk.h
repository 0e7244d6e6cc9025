/*
 * vfu-blk: the guest side of issue 13. Run as /test in the busybox initramfs of a Debian 6.12 guest that has a
 * virtio-blk disk at /dev/vda (QEMU's own virtio-blk-pci, or ours through vfio-user-pci); the guest's own
 * virtio_pci and virtio_blk drivers drive it. Parameters come from the kernel command line (vfublk.*), set by
 * the host (io.vfu.it.blk.BlkLayout), which also recomputes the pattern (BlkPattern.java) to check the image.
 */
#ifndef VFU_BLK_H
#define VFU_BLK_H

/* O_DIRECT; blk.h comes before every system header in each file. */
#define _GNU_SOURCE

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define DISK "/dev/vda"
#define BLOCK 4096u
#define WORDS (BLOCK / 8u)

/* Kernel command line: vfublk.KEY=VALUE. */
void args_load(void);
uint64_t arg_u64(const char *key, uint64_t def);
/* Copies a string value (up to the next space) into out; returns false when the key is absent. */
bool arg_str(const char *key, char *out, size_t cap);

/* The pattern: every 4 KiB block is a function of its index and a seed (see pattern_block). */
void pattern_block(uint64_t *words, uint64_t block, uint64_t seed);

/* I/O counters of this program's own direct reads and writes of /dev/vda (atomic). */
void count_written(uint64_t n);
void count_read(uint64_t n);
uint64_t total_written(void);
uint64_t total_read(void);

/* Shared helpers (util.c). */
void *aligned_buffer(size_t size);
uint64_t now_ns(void);
void drop_caches(void);
/* Reads a sysfs file into out (trailing newline removed); false if it cannot be read. */
bool sysfs_read(const char *path, char *out, size_t cap);
uint64_t sysfs_u64(const char *path, uint64_t def);
/* Appends to the detail line's "error" text (the first few failures, separated by "; "). */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *failures(void);
/* Writes s as a JSON string. */
void json_string(const char *s);

/* Whole-disk pattern write with several writers, then read back and compare (pattern.c). */
struct pattern_result {
    bool ok;
    uint64_t bad_blocks, first_bad;
};
struct pattern_result pattern_write_verify(uint64_t size, uint64_t seed, int threads);
/* Checks [off, off+len) of the disk holds the pattern; counts reads. */
bool pattern_check_range(int fd, uint64_t off, uint64_t len, uint64_t seed);

/* Discard and write-zeroes of known ranges, read back as zeros (discard.c). */
struct discard_result {
    bool discard_offered, write_zeroes_offered;
    bool discard_zeros, zeroout_zeros, neighbours_ok;
};
struct discard_result discard_check(uint64_t discard_off, uint64_t discard_len, uint64_t zero_off,
                                    uint64_t zero_len, uint64_t seed);

/* ext2 (busybox mke2fs) on the first fs_bytes of the disk: files, checksums, remount, re-check (fs.c). */
struct fs_result {
    bool ok;
    int files;
    uint64_t file_bytes;
};
struct fs_result fs_check(uint64_t fs_bytes, uint64_t seed);

/* Performance mode (perf.c): prints VFU-BLK-PERF. */
void perf_run(uint64_t region, int runs, int qd1_ops, int qd32_ops, int queues);

#endif
