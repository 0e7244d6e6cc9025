#include "blk.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writers and readers move the disk in chunks of 64 blocks; chunk c belongs to thread c % threads. */
#define CHUNK (64u * BLOCK)

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * Block b holds 512 little-endian words: word 0 is b, word 1 the seed (so a misplaced block names where it came
 * from), word i >= 2 is mix64(seed + (b * 512 + i) * 0x9e3779b97f4a7c15). BlkPattern.java is the same function.
 */
void pattern_block(uint64_t *w, uint64_t block, uint64_t seed) {
    w[0] = block;
    w[1] = seed;
    for (uint64_t i = 2; i < WORDS; i++) w[i] = mix64(seed + ((block << 9) | i) * 0x9e3779b97f4a7c15ull);
}

struct job {
    uint64_t size, seed;
    int index, threads;
    bool write;
    uint64_t bad, first_bad;
    bool io_error;
};

static void *run_job(void *p) {
    struct job *j = p;
    int fd = open(DISK, (j->write ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        j->io_error = true;
        return NULL;
    }
    uint64_t *buf = aligned_buffer(CHUNK);
    uint64_t *want = aligned_buffer(BLOCK);
    j->first_bad = UINT64_MAX;
    for (uint64_t off = (uint64_t)j->index * CHUNK; off < j->size; off += (uint64_t)j->threads * CHUNK) {
        size_t len = j->size - off < CHUNK ? (size_t)(j->size - off) : CHUNK;
        if (j->write) {
            for (size_t b = 0; b < len / BLOCK; b++) pattern_block(buf + b * WORDS, off / BLOCK + b, j->seed);
            if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) { j->io_error = true; break; }
            count_written(len);
        } else {
            if (pread(fd, buf, len, (off_t)off) != (ssize_t)len) { j->io_error = true; break; }
            count_read(len);
            for (size_t b = 0; b < len / BLOCK; b++) {
                pattern_block(want, off / BLOCK + b, j->seed);
                if (memcmp(want, buf + b * WORDS, BLOCK) != 0) {
                    if (j->bad++ == 0) j->first_bad = off / BLOCK + b;
                }
            }
        }
    }
    if (j->write && fsync(fd) != 0) j->io_error = true;
    free(want);
    free(buf);
    close(fd);
    return NULL;
}

/* Runs one pass (all writers or all readers) in parallel; false on an I/O error. */
static bool pass(uint64_t size, uint64_t seed, int threads, bool write, struct pattern_result *r) {
    pthread_t t[64];
    struct job jobs[64];
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.size = size, .seed = seed, .index = i, .threads = threads, .write = write};
        pthread_create(&t[i], NULL, run_job, &jobs[i]);
    }
    bool ok = true;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].io_error) {
            fail("%s thread %d: I/O error", write ? "writer" : "reader", i);
            ok = false;
        }
        r->bad_blocks += jobs[i].bad;
        if (jobs[i].bad && jobs[i].first_bad < r->first_bad) r->first_bad = jobs[i].first_bad;
    }
    return ok;
}

struct pattern_result pattern_write_verify(uint64_t size, uint64_t seed, int threads) {
    struct pattern_result r = {.first_bad = UINT64_MAX};
    bool ok = pass(size, seed, threads, true, &r);
    /* The read-back must come from the device, not from the guest's page cache. */
    drop_caches();
    ok = pass(size, seed, threads, false, &r) && ok;
    if (r.bad_blocks) fail("%llu blocks differ from the pattern, first block %llu",
                           (unsigned long long)r.bad_blocks, (unsigned long long)r.first_bad);
    r.ok = ok && r.bad_blocks == 0;
    return r;
}

bool pattern_check_range(int fd, uint64_t off, uint64_t len, uint64_t seed) {
    uint64_t *buf = aligned_buffer(BLOCK), *want = aligned_buffer(BLOCK);
    bool ok = true;
    for (uint64_t o = off; o < off + len; o += BLOCK) {
        if (pread(fd, buf, BLOCK, (off_t)o) != BLOCK) { fail("read at %llu failed", (unsigned long long)o); ok = false; break; }
        count_read(BLOCK);
        pattern_block(want, o / BLOCK, seed);
        if (memcmp(buf, want, BLOCK) != 0) { fail("block %llu lost its pattern", (unsigned long long)(o / BLOCK)); ok = false; }
    }
    free(want);
    free(buf);
    return ok;
}
