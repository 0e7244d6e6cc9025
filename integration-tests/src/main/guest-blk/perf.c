#include "blk.h"

#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEQ_IO (1024u * 1024u)
#define DEPTH 32

/* Linux AIO through raw system calls: the guest has no libaio, and these are all a static binary needs. */
static long io_setup_(unsigned nr, aio_context_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long io_destroy_(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
static long io_submit_(aio_context_t ctx, long n, struct iocb **v) { return syscall(SYS_io_submit, ctx, n, v); }
static long io_getevents_(aio_context_t ctx, long min, long max, struct io_event *ev) {
    return syscall(SYS_io_getevents, ctx, min, max, ev, NULL);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
/* A block-aligned offset below region (xorshift64). */
static uint64_t random_block(uint64_t region) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (rng % (region / BLOCK)) * BLOCK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One sequential pass of 1 MiB O_DIRECT transfers over the region; MB/s (10^6 bytes), or -1 on an error. */
static double sequential(int fd, void *buf, uint64_t region, bool writing) {
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < region; off += SEQ_IO) {
        ssize_t n = writing ? pwrite(fd, buf, SEQ_IO, (off_t)off) : pread(fd, buf, SEQ_IO, (off_t)off);
        if (n != SEQ_IO) { fail("sequential %s at %llu failed", writing ? "write" : "read", (unsigned long long)off); return -1; }
        if (writing) count_written(SEQ_IO); else count_read(SEQ_IO);
    }
    if (writing && fdatasync(fd) != 0) { fail("fdatasync failed"); return -1; }
    return (double)region * 1e3 / (double)(now_ns() - t0);
}

/* ops 4 KiB reads one at a time at random offsets; latencies (ns) into lat, sorted. */
static bool random_qd1(int fd, void *buf, uint64_t region, int ops, uint64_t *lat) {
    for (int i = 0; i < ops; i++) {
        uint64_t off = random_block(region), t0 = now_ns();
        if (pread(fd, buf, BLOCK, (off_t)off) != BLOCK) { fail("random read failed"); return false; }
        lat[i] = now_ns() - t0;
        count_read(BLOCK);
    }
    qsort(lat, (size_t)ops, sizeof *lat, cmp_u64);
    return true;
}

/* ops 4 KiB reads at random offsets with DEPTH always in flight (Linux AIO); IOPS, or -1 on an error. */
static double random_qd32(int fd, uint8_t *bufs, uint64_t region, int ops) {
    aio_context_t ctx = 0;
    if (io_setup_(DEPTH, &ctx) != 0) { fail("io_setup failed"); return -1; }
    struct iocb cb[DEPTH], *one[1];
    struct io_event ev[DEPTH];
    int submitted = 0, done = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < DEPTH && submitted < ops; i++, submitted++) {
        cb[i] = (struct iocb){.aio_data = (uint64_t)i, .aio_lio_opcode = IOCB_CMD_PREAD, .aio_fildes = (uint32_t)fd,
                              .aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * BLOCK), .aio_nbytes = BLOCK,
                              .aio_offset = (int64_t)random_block(region)};
        one[0] = &cb[i];
        if (io_submit_(ctx, 1, one) != 1) { fail("io_submit failed"); io_destroy_(ctx); return -1; }
    }
    while (done < ops) {
        long n = io_getevents_(ctx, 1, DEPTH, ev);
        if (n < 1) { fail("io_getevents failed"); io_destroy_(ctx); return -1; }
        for (long e = 0; e < n; e++) {
            if (ev[e].res != BLOCK) { fail("AIO read failed (%lld)", (long long)ev[e].res); io_destroy_(ctx); return -1; }
            done++;
            count_read(BLOCK);
            if (submitted < ops) {
                /* The finished slot goes straight back with a new offset: the depth stays at DEPTH. */
                struct iocb *c = &cb[ev[e].data];
                c->aio_offset = (int64_t)random_block(region);
                one[0] = c;
                if (io_submit_(ctx, 1, one) != 1) { fail("io_submit failed"); io_destroy_(ctx); return -1; }
                submitted++;
            }
        }
    }
    double iops = (double)ops * 1e9 / (double)(now_ns() - t0);
    io_destroy_(ctx);
    return iops;
}

void perf_run(uint64_t region, int runs, int qd1_ops, int qd32_ops, int queues) {
    if (runs < 1) runs = 1;
    if (runs > 15) runs = 15;
    region -= region % SEQ_IO;
    int fd = open(DISK, O_RDWR | O_DIRECT);
    uint8_t *buf = aligned_buffer(SEQ_IO), *bufs = aligned_buffer((size_t)DEPTH * BLOCK);
    uint64_t *lat = malloc(sizeof *lat * (size_t)qd1_ops);
    double wr[15], rd[15], p50[15], p99[15], qd1[15], qd32[15];
    bool ok = fd >= 0 && region > 0 && qd1_ops > 0 && qd32_ops > 0;
    if (fd < 0) fail("cannot open " DISK);
    memset(buf, 0xa5, SEQ_IO);
    uint64_t t0 = now_ns();
    /* An untimed first write allocates the region in the image, so every run measures the same thing. */
    ok = ok && sequential(fd, buf, region, true) > 0;
    for (int r = 0; ok && r < runs; r++) {
        wr[r] = sequential(fd, buf, region, true);
        rd[r] = sequential(fd, buf, region, false);
        ok = wr[r] > 0 && rd[r] > 0 && random_qd1(fd, buf, region, qd1_ops, lat);
        if (!ok) break;
        p50[r] = (double)lat[qd1_ops / 2] / 1e3;
        p99[r] = (double)lat[(size_t)qd1_ops * 99 / 100] / 1e3;
        /* QD1 IOPS is the inverse of the mean latency (the reads alone, not the offset choice). */
        uint64_t s = 0;
        for (int i = 0; i < qd1_ops; i++) s += lat[i];
        qd1[r] = (double)qd1_ops * 1e9 / (double)s;
        qd32[r] = random_qd32(fd, bufs, region, qd32_ops);
        ok = qd32[r] > 0;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    if (ok) {
        printf("VFU-BLK-PERF {\"ok\":true,\"queues\":%d,\"region_mib\":%llu,\"runs\":%d,\"qd1_ops\":%d,"
               "\"qd32_ops\":%d,\"seq_write_mbps\":%.1f,\"seq_read_mbps\":%.1f,\"randread_qd1_p50_us\":%.1f,"
               "\"randread_qd1_p99_us\":%.1f,\"randread_qd1_iops\":%.0f,\"randread_qd32_iops\":%.0f,"
               "\"seconds\":%.1f,\"max_sectors_kb\":%llu,\"max_segments\":%llu,\"max_segment_size\":%llu}\n",
               queues, (unsigned long long)(region >> 20), runs, qd1_ops, qd32_ops, median(wr, runs),
               median(rd, runs), median(p50, runs), median(p99, runs), median(qd1, runs), median(qd32, runs), secs,
               /* How the block layer may split a 1 MiB transfer for this device (its SIZE_MAX and SEG_MAX). */
               (unsigned long long)sysfs_u64("/sys/block/vda/queue/max_sectors_kb", 0),
               (unsigned long long)sysfs_u64("/sys/block/vda/queue/max_segments", 0),
               (unsigned long long)sysfs_u64("/sys/block/vda/queue/max_segment_size", 0));
    } else {
        printf("VFU-BLK-PERF {\"ok\":false,\"error\":");
        json_string(failures());
        printf("}\n");
    }
    fflush(stdout);
    free(lat);
    free(bufs);
    free(buf);
    if (fd >= 0) close(fd);
}
