/* Nearest-rank percentiles of samples and medians of per-run figures. */
#include "bench.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts samples[0..n) in place; the rank of p is n * p / 100, clamped to the last sample. */
void percentiles(uint64_t *samples, int n, uint64_t *p50, uint64_t *p99) {
    qsort(samples, (size_t)n, sizeof *samples, cmp_u64);
    int r50 = n / 2, r99 = (int)((long)n * 99 / 100);
    *p50 = samples[r50 < n ? r50 : n - 1];
    *p99 = samples[r99 < n ? r99 : n - 1];
}

/* The median of n values; the lower middle one for an even n, so that it is always a measured value. */
uint64_t median_u64(const uint64_t *v, int n) {
    uint64_t s[16];
    for (int i = 0; i < n; i++) s[i] = v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_u64);
    return s[(n - 1) / 2];
}

double median_d(const double *v, int n) {
    double s[16];
    for (int i = 0; i < n; i++) s[i] = v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    return s[(n - 1) / 2];
}
