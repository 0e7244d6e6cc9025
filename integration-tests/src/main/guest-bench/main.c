/*
 * Perf mode (vfubench.mode=perf, the default) prints one line:
 *   VFU-GUESTBENCH {"ok":B,"runs":N,"clock_ns":N,"vfu":{figures},"edu":{figures},"floor":{figures},"error":S}
 * with, per device, the median over the runs of each run's figure: read_p50_ns, read_p99_ns (a plain BAR0
 * register), write_p50_ns, write_p99_ns, irq_p50_ns, irq_p99_ns (doorbell write to the eventfd read),
 * dma_copies_per_s, dma_p50_ns (4 KiB copies, one at a time, to the completion interrupt; null for the floor,
 * which has no DMA engine), and for ours shm_read_p50_ns / shm_read_p99_ns (our STATUS as published in mapped
 * BAR2 memory, or the register vfubench.shm_off names; null when the device publishes none).
 * Each run measures the three devices back to back, rotating which goes first.
 * Soak mode (vfubench.mode=soak) prints one VFU-SOAK line (soak.c). Exit status 0 only if everything held.
 * Kernel arguments: vfubench.runs (5), .reads (2000), .writes (2000), .irqs (500), .copies (200),
 * .edu_copies (5), .shm_bar (0), .shm_off (-1: the published STATUS), .soak (10^6), .soak_start (16), .soak_max (64),
 * .soak_ims (8).
 */
#define _GNU_SOURCE
#include "bench.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct result R; /* the suite's result record, which vfio_dev.c fills in part */
static struct target vfu, edu, ivshmem;
/* The devices in the line's order; "floor" is ivshmem-doorbell with the host echo as its peer. */
static struct target *const targets[] = {&vfu, &edu, &ivshmem};
#define TARGETS ((int)(sizeof targets / sizeof targets[0]))
static char cmdline[2048];

uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

uint64_t now_ms(void) { return now_ns() / 1000000; }

const char *const LOG_PREFIX = "vfu-guestbench";

long arg(const char *key, long def) {
    char k[64];
    snprintf(k, sizeof k, " vfubench.%s=", key);
    char *p = strstr(cmdline, k);
    return p ? strtol(p + strlen(k), NULL, 0) : def;
}

/* Waits for the eventfd and reads it (clearing it); false on timeout. */
bool wait_efd(int efd, int timeout_ms) {
    struct pollfd pf = {.fd = efd, .events = POLLIN};
    uint64_t c;
    for (;;) {
        if (read(efd, &c, sizeof c) == sizeof c) return true;
        if (poll(&pf, 1, timeout_ms) <= 0) return false;
    }
}

static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar((unsigned char)*s >= 0x20 ? *s : ' ');
    }
    putchar('"');
}

enum { READ, WRITE, IRQ, DMA, SHM, FIGURES };
static struct figure fig[TARGETS][FIGURES];

static void print_latency(const char *name, const struct figure *f) {
    if (f->runs == 0) { printf("\"%s_p50_ns\":null,\"%s_p99_ns\":null", name, name); return; }
    printf("\"%s_p50_ns\":%llu,\"%s_p99_ns\":%llu", name, (unsigned long long)median_u64(f->p50, f->runs), name,
           (unsigned long long)median_u64(f->p99, f->runs));
}

static void print_device(const struct figure *f) {
    putchar('{');
    print_latency("read", &f[READ]);
    putchar(',');
    print_latency("write", &f[WRITE]);
    putchar(',');
    print_latency("irq", &f[IRQ]);
    if (f[DMA].runs) printf(",\"dma_copies_per_s\":%.1f,\"dma_p50_ns\":%llu", median_d(f[DMA].rate, f[DMA].runs),
                            (unsigned long long)median_u64(f[DMA].p50, f[DMA].runs));
    else printf(",\"dma_copies_per_s\":null,\"dma_p50_ns\":null");
    putchar(',');
    print_latency("shm_read", &f[SHM]);
    putchar('}');
}

/* One run of every figure on one device; a failure ends the whole measurement. */
static bool run_once(struct target *t, struct figure *f) {
    return measure_read(t, t->read_reg, (int)arg("reads", 2000), &f[READ]) &&
           measure_write(t, (int)arg("writes", 2000), &f[WRITE]) &&
           measure_irq(t, (int)arg("irqs", 500), &f[IRQ]) &&
           (!t->dma_copy || measure_dma(t, (int)(t == &edu ? arg("edu_copies", 5) : arg("copies", 200)), &f[DMA])) &&
           (!t->shm_reg || measure_read(t, t->shm_reg, (int)arg("reads", 2000), &f[SHM]));
}

static int perf(void) {
    int runs = (int)arg("runs", 5);
    if (runs < 1 || runs > 16) { fail("vfubench.runs must be 1..16, got %d", runs); runs = 0; }
    uint64_t t0 = now_ns(), clock = clock_cost_ns();
    bool ok = runs > 0 && vfu_target_open(&vfu, arg("shm_bar", 0), arg("shm_off", -1)) && edu_target_open(&edu) &&
              ivshmem_target_open(&ivshmem);
    if (ok) note("all devices bound: ours %s, edu %s, floor %s", vfu.d.addr, edu.d.addr, ivshmem.d.addr);
    for (int r = 0; ok && r < runs; r++) {
        /* Rule: each run measures every device back to back, rotating the order, so drift hits them alike. */
        for (int i = 0; ok && i < TARGETS; i++) {
            int k = (r + i) % TARGETS;
            ok = run_once(targets[k], fig[k]);
        }
        note("run %d of %d done", r + 1, runs);
    }
    printf("VFU-GUESTBENCH {\"ok\":%s,\"runs\":%d,\"clock_ns\":%llu,\"seconds\":%.1f,\"vfu\":", ok ? "true" : "false",
           runs, (unsigned long long)clock, (double)(now_ns() - t0) / 1e9);
    print_device(fig[0]);
    printf(",\"edu\":");
    print_device(fig[1]);
    printf(",\"floor\":");
    print_device(fig[2]);
    printf(",\"error\":");
    json_string(R.error);
    printf("}\n");
    fflush(stdout);
    return ok && !R.error[0] ? 0 : 1;
}

int main(void) {
    FILE *f = fopen("/proc/cmdline", "r");
    cmdline[0] = ' ';
    if (f) { if (!fgets(cmdline + 1, sizeof cmdline - 2, f)) cmdline[1] = 0; fclose(f); }
    char *m = strstr(cmdline, " vfubench.mode=");
    if (m && strncmp(m + 15, "soak", 4) == 0) {
        for (int v = 0; v < MAX_VECTORS; v++) vfu.d.efd[v] = -1;
        bool ok = pci_find(&vfu.d) && pci_check_config(&vfu.d) && vfio_open(&vfu.d);
        return soak_run(ok ? &vfu.d : NULL, (uint64_t)arg("soak", 1000000), (int)arg("soak_start", 16),
                        (int)arg("soak_max", 64), (int)arg("soak_ims", 8));
    }
    return perf();
}
