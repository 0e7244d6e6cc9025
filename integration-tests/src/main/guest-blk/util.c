#include "blk.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char cmdline[4096];
static uint64_t written, readb;
static char errors[1024];

void args_load(void) {
    FILE *f = fopen("/proc/cmdline", "r");
    cmdline[0] = ' ';
    cmdline[1] = 0;
    if (f) {
        if (!fgets(cmdline + 1, sizeof cmdline - 2, f)) cmdline[1] = 0;
        fclose(f);
    }
    cmdline[strcspn(cmdline, "\n")] = 0;
}

static const char *find(const char *key) {
    char k[80];
    snprintf(k, sizeof k, " vfublk.%s=", key);
    const char *p = strstr(cmdline, k);
    return p ? p + strlen(k) : NULL;
}

uint64_t arg_u64(const char *key, uint64_t def) {
    const char *v = find(key);
    return v ? strtoull(v, NULL, 0) : def;
}

bool arg_str(const char *key, char *out, size_t cap) {
    const char *v = find(key);
    if (!v || cap == 0) return false;
    size_t n = strcspn(v, " ");
    if (n >= cap) n = cap - 1;
    memcpy(out, v, n);
    out[n] = 0;
    return true;
}

void count_written(uint64_t n) { __atomic_add_fetch(&written, n, __ATOMIC_RELAXED); }
void count_read(uint64_t n) { __atomic_add_fetch(&readb, n, __ATOMIC_RELAXED); }
uint64_t total_written(void) { return __atomic_load_n(&written, __ATOMIC_RELAXED); }
uint64_t total_read(void) { return __atomic_load_n(&readb, __ATOMIC_RELAXED); }

void *aligned_buffer(size_t size) {
    void *p = NULL;
    /* O_DIRECT needs buffers aligned to the logical block size; a page covers every device. */
    if (posix_memalign(&p, BLOCK, size) != 0) {
        fprintf(stderr, "vfu-blk: out of memory (%zu bytes)\n", size);
        exit(2);
    }
    return p;
}

uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void drop_caches(void) {
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0 || write(fd, "3\n", 2) != 2) fail("cannot drop caches");
    if (fd >= 0) close(fd);
}

bool sysfs_read(const char *path, char *out, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0) return false;
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
    return true;
}

uint64_t sysfs_u64(const char *path, uint64_t def) {
    char b[64];
    return sysfs_read(path, b, sizeof b) ? strtoull(b, NULL, 0) : def;
}

void fail(const char *fmt, ...) {
    char m[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vfu-blk: %s\n", m);
    size_t used = strlen(errors);
    /* The first failures explain the rest; keep the detail line bounded. */
    if (used + strlen(m) + 3 < sizeof errors) {
        snprintf(errors + used, sizeof errors - used, "%s%s", used ? "; " : "", m);
    }
}

const char *failures(void) { return errors; }

void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar((unsigned char)*s >= 0x20 ? *s : ' ');
    }
    putchar('"');
}
