/*
 * One run of each figure on one target. Latencies are per operation, bracketed by CLOCK_MONOTONIC reads
 * (clock_cost_ns says what the bracket itself costs); the DMA figure is copies completed per second, one at a
 * time, each waited for through its interrupt.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t *samples(int n) {
    static uint64_t *buf;
    static int cap;
    if (n > cap) {
        free(buf);
        buf = malloc(sizeof *buf * (size_t)n);
        cap = n;
    }
    return buf;
}

static void add(struct figure *f, uint64_t *s, int n) {
    percentiles(s, n, &f->p50[f->runs], &f->p99[f->runs]);
    f->runs++;
}

uint64_t clock_cost_ns(void) {
    uint64_t *s = samples(1000), p50, p99;
    for (int i = 0; i < 1000; i++) {
        uint64_t t0 = now_ns();
        s[i] = now_ns() - t0;
    }
    percentiles(s, 1000, &p50, &p99);
    return p50;
}

bool measure_read(struct target *t, volatile uint32_t *reg, int n, struct figure *f) {
    uint64_t *s = samples(n);
    uint32_t bad = 0;
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        uint32_t v = *reg;
        s[i] = now_ns() - t0;
        bad += reg == t->read_reg && v != t->read_expect;
    }
    if (bad) { fail("%s: %u of %d reads returned a wrong ID", t->name, bad, n); return false; }
    add(f, s, n);
    return true;
}

bool measure_write(struct target *t, int n, struct figure *f) {
    uint64_t *s = samples(n);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        *t->write_reg = (uint32_t)i;
        s[i] = now_ns() - t0;
    }
    add(f, s, n);
    return true;
}

bool measure_irq(struct target *t, int n, struct figure *f) {
    uint64_t *s = samples(n);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        t->irq_fire(t);
        if (!wait_efd(t->irq_efd, 10000)) { fail("%s: interrupt %d never arrived", t->name, i); return false; }
        s[i] = now_ns() - t0;
        t->irq_ack(t);
    }
    add(f, s, n);
    return true;
}

/* n copies of 4 KiB one after another; the data is checked after the last one. */
bool measure_dma(struct target *t, int n, struct figure *f) {
    uint64_t *s = samples(n);
    for (uint32_t i = 0; i < COPY_BYTES; i++) t->dma_src[i] = (uint8_t)(i * 13 + f->runs + 1);
    memset(t->dma_dst, 0, COPY_BYTES);
    uint64_t start = now_ns();
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (!t->dma_copy(t, (uint64_t)f->runs * (uint64_t)n + (uint64_t)i)) return false;
        s[i] = now_ns() - t0;
    }
    uint64_t elapsed = now_ns() - start;
    if (memcmp(t->dma_src, t->dma_dst, COPY_BYTES) != 0) { fail("%s: DMA copy data differs", t->name); return false; }
    f->rate[f->runs] = (double)n * 1e9 / (double)elapsed;
    add(f, s, n);
    return true;
}
