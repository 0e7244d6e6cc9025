#include "blk.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define MNT "/mnt"
#define FILES 6

/* File i is i * 193 KiB + 1000 bytes of the pattern with seed + 1 + i (not a multiple of the block size). */
static uint64_t file_size(int i) { return (uint64_t)i * 193 * 1024 + 1000; }

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static bool mount_fs(void) {
    /* busybox mke2fs makes ext2; the ext4 module serves it as "ext2" (CONFIG_EXT4_USE_FOR_EXT2) or "ext4". */
    if (mount(DISK, MNT, "ext2", 0, NULL) == 0 || mount(DISK, MNT, "ext4", 0, NULL) == 0) return true;
    fail("mount " DISK " failed");
    return false;
}

/* Writes the files (writing) or reads them back; returns each file's FNV-1a 64 hash in sums. */
static bool files(bool writing, uint64_t seed, uint64_t *sums, uint64_t *bytes) {
    uint64_t *block = malloc(BLOCK);
    bool ok = true;
    for (int i = 0; i < FILES && ok; i++) {
        char path[64];
        snprintf(path, sizeof path, MNT "/d%d/file%d", i % 2, i);
        int fd = open(path, writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
        if (fd < 0) { fail("open %s failed", path); ok = false; break; }
        uint64_t h = 0xcbf29ce484222325ull, size = file_size(i), got = 0;
        for (uint64_t off = 0; off < size; off += BLOCK) {
            size_t n = size - off < BLOCK ? (size_t)(size - off) : BLOCK;
            if (writing) {
                pattern_block(block, off / BLOCK, seed + 1 + (uint64_t)i);
                if (write(fd, block, n) != (ssize_t)n) { fail("write %s failed", path); ok = false; break; }
            } else if (read(fd, block, n) != (ssize_t)n) {
                fail("read %s failed", path);
                ok = false;
                break;
            }
            h = fnv1a(h, (const uint8_t *)block, n);
            got += n;
        }
        if (writing && fsync(fd) != 0) { fail("fsync %s failed", path); ok = false; }
        close(fd);
        sums[i] = h;
        *bytes += got;
    }
    free(block);
    return ok;
}

struct fs_result fs_check(uint64_t fs_bytes, uint64_t seed) {
    struct fs_result r = {0};
    char cmd[128];
    /* The fs covers only [0, fs_bytes): the rest of the disk keeps the pattern for the host to check. */
    snprintf(cmd, sizeof cmd, "mke2fs -F -b 4096 " DISK " %llu >/dev/null", (unsigned long long)(fs_bytes / 1024));
    mkdir(MNT, 0755);
    if (system(cmd) != 0) { fail("mke2fs failed"); return r; }
    if (!mount_fs()) return r;
    mkdir(MNT "/d0", 0755);
    mkdir(MNT "/d1", 0755);
    uint64_t wrote[FILES], read_back[FILES], bytes = 0, bytes2 = 0;
    bool ok = files(true, seed, wrote, &bytes);
    sync();
    if (umount(MNT) != 0) { fail("umount failed"); return r; }
    /* The second mount reads the files from the device: nothing of the first mount stays cached. */
    drop_caches();
    if (!mount_fs()) return r;
    ok = files(false, seed, read_back, &bytes2) && ok;
    for (int i = 0; ok && i < FILES; i++) {
        if (wrote[i] != read_back[i]) { fail("file%d: checksum differs after remount", i); ok = false; }
    }
    if (umount(MNT) != 0) { fail("second umount failed"); ok = false; }
    r.ok = ok && bytes == bytes2;
    r.files = FILES;
    r.file_bytes = bytes;
    return r;
}
