/*
 * The interrupt soak (issue 15): at least `total` interrupts over MSI-X vectors and IMS entries of our device
 * while MSI-X vectors are appended and IMS entries are masked, re-programmed and unmasked, all while the
 * round's interrupts are still in flight. Prints one line:
 *   VFU-SOAK {"ok":B,"fired":N,"received":N,"delivered_on_unmask":N,"ms":N,...,"error":S}
 * fired == received (and the device's own delivery counters agree) is the only passing result.
 *
 * Each round gives every guest vector at most one interrupt, because two for one vector can merge on the way
 * (QEMU reads a vector's eventfd once for several signals; the APIC keeps one request bit per vector), and a
 * merge would look like a loss. Vectors 0..ims_entries are the IMS pool: each entry targets one of them and one
 * is spare; the others take MSI-X doorbells. Per round, entry m = round % ims_entries is masked before its
 * doorbell (so the device latches it), then re-programmed to the spare vector's message and unmasked: it must
 * arrive once, on the new vector (delivered on unmask). Entry m + 1 is masked and unmasked just after its
 * doorbell (racing its delivery). MSI-X vectors start_vectors..max_vectors-1 are appended spread over the run.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>

static uint64_t want[MAX_VECTORS];

struct soak {
    uint64_t fired, received, msix_fired, ims_fired, on_unmask, masks, reprograms, appended, rounds;
    uint64_t device_msix, device_ims;
};

static volatile uint32_t *bar(struct dev *d, int b, uint64_t off) {
    return (volatile uint32_t *)(d->bar[b] + off);
}

static void ims_program(struct dev *d, int e, uint64_t addr, uint32_t data) {
    *bar(d, 4, 16u * e) = (uint32_t)addr;
    *bar(d, 4, 16u * e + 4) = (uint32_t)(addr >> 32);
    *bar(d, 4, 16u * e + 8) = data;
}

static void ims_control(struct dev *d, int e, uint32_t ctrl) { *bar(d, 4, 16u * e + 12) = ctrl; }

static uint64_t total_got(struct dev *d) {
    uint64_t s = 0;
    for (int v = 0; v < d->nvec; v++) s += d->got[v];
    return s;
}

static uint64_t device_sum(struct dev *d, uint64_t base, int n) {
    uint64_t s = 0;
    for (int i = 0; i < n; i++) s += *bar(d, 0, base + 4u * i);
    return s;
}

static void report(const struct soak *s, bool ok, uint64_t ms, int vectors, int entries) {
    printf("VFU-SOAK {\"ok\":%s,\"fired\":%llu,\"received\":%llu,\"delivered_on_unmask\":%llu,\"ms\":%llu,"
           "\"msix_fired\":%llu,\"ims_fired\":%llu,\"masks\":%llu,\"reprograms\":%llu,\"appended\":%llu,"
           "\"rounds\":%llu,\"vectors\":%d,\"ims_entries\":%d,\"device_msix_delivered\":%llu,"
           "\"device_ims_delivered\":%llu,\"error\":\"",
           ok ? "true" : "false", (unsigned long long)s->fired, (unsigned long long)s->received,
           (unsigned long long)s->on_unmask, (unsigned long long)ms, (unsigned long long)s->msix_fired,
           (unsigned long long)s->ims_fired, (unsigned long long)s->masks, (unsigned long long)s->reprograms,
           (unsigned long long)s->appended, (unsigned long long)s->rounds, vectors, entries,
           (unsigned long long)s->device_msix, (unsigned long long)s->device_ims);
    for (const char *c = R.error; *c; c++) putchar(*c == '"' || *c == '\\' ? '\'' : *c);
    printf("\"}\n");
    fflush(stdout);
}

int soak_run(struct dev *d, uint64_t total, int start, int max, int entries) {
    struct soak s = {0};
    uint64_t t0 = now_ms();
    if (!d) { report(&s, false, 0, 0, entries); return 1; }
    if (entries < 2 || entries > 64 || start < entries + 2 || max < start || max > d->msix_count ||
        entries > d->ims_count || !d->bar[0] || !d->bar[4]) {
        fail("soak needs 2..64 IMS entries, start >= entries + 2 <= max <= %d vectors, mapped BAR0 and BAR4",
             d->msix_count);
        report(&s, false, 0, 0, entries);
        return 1;
    }
    uint64_t addr[66];
    uint32_t data[66];
    int target[64], spare = entries;
    bool ok = true;
    for (int v = 0; ok && v < start; v++) ok = msix_append(d, v);
    for (int v = 0; ok && v <= entries; v++) ok = msix_message(d, v, &addr[v], &data[v]);
    for (int e = 0; ok && e < entries; e++) {
        target[e] = e;
        ims_program(d, e, addr[e], data[e]);
        ims_control(d, e, 0);
        if ((*bar(d, 4, 16u * e + 12) & 3) != IMS_CTRL_ALLOCATED) { fail("IMS entry %d not unmasked", e); ok = false; }
    }
    uint64_t msix_base = device_sum(d, R_MSIX_DELIVERED, max), ims_base = device_sum(d, R_IMS_DELIVERED, entries);
    uint64_t before = total_got(d);
    int extra = max - start;
    while (ok && s.fired < total) {
        for (int v = 0; v < d->nvec; v++) want[v] = d->got[v];
        int m = (int)(s.rounds % (uint64_t)entries), q = (m + 1) % entries;
        ims_control(d, m, IMS_CTRL_MASK);
        s.masks++;
        for (int v = entries + 1; v < d->nvec; v++) {
            *bar(d, 0, R_DOORBELL_MSIX) = (uint32_t)v;
            want[v]++;
            s.msix_fired++;
        }
        for (int e = 0; e < entries; e++) {
            *bar(d, 0, R_DOORBELL_IMS) = (uint32_t)e;
            s.ims_fired++;
            if (e != m) want[target[e]]++;
        }
        /* While that round is in flight: entry m (latched) moves to the spare vector and is unmasked. */
        ims_program(d, m, addr[spare], data[spare]);
        ims_control(d, m, 0);
        s.reprograms++;
        want[spare]++;
        int moved_to = spare;
        spare = target[m];
        target[m] = moved_to;
        ims_control(d, q, IMS_CTRL_MASK);
        ims_control(d, q, 0);
        s.masks++;
        s.fired = s.msix_fired + s.ims_fired;
        /* Append k of `extra` once k / (extra + 1) of the interrupts have been fired. */
        if (s.appended < (uint64_t)extra &&
            s.fired >= (s.appended + 1) * total / (uint64_t)(extra + 1) && d->nvec < max) {
            int v = d->nvec;
            if (!msix_append(d, v)) { ok = false; break; }
            want[v] = 0;
            s.appended++;
        }
        uint64_t got_before = d->got[moved_to];
        if (!wait_for(d, want, 10000)) {
            for (int v = 0; v < d->nvec; v++) {
                if (d->got[v] < want[v]) { fail("round %llu: vector %d got %llu of %llu", (unsigned long long)s.rounds,
                                                v, (unsigned long long)d->got[v], (unsigned long long)want[v]); break; }
            }
            ok = false;
        }
        s.on_unmask += d->got[moved_to] > got_before;
        s.rounds++;
    }
    drain(d, 300); /* a duplicate or late interrupt would show up here */
    while (drain(d, 50) > 0) {}
    s.received = total_got(d) - before;
    s.device_msix = device_sum(d, R_MSIX_DELIVERED, max) - msix_base;
    s.device_ims = device_sum(d, R_IMS_DELIVERED, entries) - ims_base;
    if (s.received != s.fired) fail("fired %llu, received %llu", (unsigned long long)s.fired,
                                    (unsigned long long)s.received);
    if (s.device_msix != s.msix_fired || s.device_ims != s.ims_fired) {
        fail("device counted %llu MSI-X and %llu IMS deliveries, the guest fired %llu and %llu",
             (unsigned long long)s.device_msix, (unsigned long long)s.device_ims, (unsigned long long)s.msix_fired,
             (unsigned long long)s.ims_fired);
    }
    ok = ok && !R.error[0];
    note("soak: %llu fired, %llu received in %llu ms", (unsigned long long)s.fired, (unsigned long long)s.received,
         (unsigned long long)(now_ms() - t0));
    report(&s, ok, now_ms() - t0, d->nvec, entries);
    return ok ? 0 : 1;
}
