/* The checks of issue 5: dynamic MSI-X append, churn, IMS, vector budget and the DMA engine. */
#define _GNU_SOURCE
#include "vfu_guest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t want[MAX_VECTORS];

/* Fires every enabled vector once through DOORBELL_MSIX; the caller waits for them. */
static void fire_all(struct dev *d, int nvec) {
    for (int v = 0; v < nvec; v++) {
        want[v] = d->got[v] + 1;
        wr32(d, 0, R_DOORBELL_MSIX, (uint32_t)v);
    }
    for (int v = nvec; v < d->nvec; v++) want[v] = d->got[v];
    R.fired += (uint64_t)nvec;
}

static uint64_t total_got(struct dev *d) {
    uint64_t s = 0;
    for (int v = 0; v < d->nvec; v++) s += d->got[v];
    return s;
}

/* Waits for the fired round; what arrived counts as received MSI-X interrupts. */
static bool collect(struct dev *d, const char *what, int timeout_ms) {
    uint64_t before = total_got(d);
    bool ok = wait_for(d, want, timeout_ms);
    drain(d, 0);
    R.received += total_got(d) - before;
    if (!ok) {
        for (int v = 0; v < d->nvec; v++) {
            if (d->got[v] < want[v]) { fail("%s: vector %d got %llu of %llu", what, v,
                                            (unsigned long long)d->got[v], (unsigned long long)want[v]); break; }
        }
    }
    return ok;
}

/* Append vectors 0..upto-1 one at a time while MSI-X stays enabled; after each, every enabled vector fires. */
bool check_append(struct dev *d, int upto) {
    for (int v = 0; v < upto; v++) {
        if (!msix_append(d, v)) return false;
        fire_all(d, v + 1);
        if (!collect(d, "append", 10000)) return false;
        R.vectors_appended = v + 1;
    }
    note("appended %d vectors, each round delivered", upto);
    return true;
}

/*
 * At least `total` doorbells spread over every enabled vector, one per vector per round (QEMU coalesces a
 * vector's eventfd signals that arrive before it reads them, so a round waits for its own interrupts), while
 * `extra` more vectors are appended in the middle of rounds that are still in flight.
 */
bool check_churn(struct dev *d, uint64_t total, int extra) {
    uint64_t start = R.fired, t0 = now_ms();
    /* Rounds grow wider as vectors are added; spread the appends over the rounds at the final width. */
    uint64_t rounds = total / (uint64_t)(d->nvec + extra) + 1;
    uint64_t every = rounds / (uint64_t)(extra + 1) + 1;
    uint64_t round = 0;
    while (R.fired - start < total) {
        fire_all(d, d->nvec);
        round++;
        if (extra > 0 && round % every == 0 && d->nvec < d->msix_count) {
            int v = d->nvec;
            if (!msix_append(d, v)) return false;
            want[v] = 0;
            extra--;
            R.vectors_appended++;
            R.churn_appended++;
        }
        if (!collect(d, "churn", 10000)) return false;
    }
    R.churn_fired = R.fired - start;
    note("churn: %llu interrupts over up to %d vectors in %llu ms", (unsigned long long)R.churn_fired, d->nvec,
         (unsigned long long)(now_ms() - t0));
    return true;
}

static void ims_write(struct dev *d, int e, uint64_t addr, uint32_t data) {
    wr32(d, 4, 16u * e, (uint32_t)addr);
    wr32(d, 4, 16u * e + 4, (uint32_t)(addr >> 32));
    wr32(d, 4, 16u * e + 8, data);
}

/*
 * IMS entries carry the MSI messages the guest kernel wrote for MSI-X vectors 0..entries-1 (read from the
 * MSI-X table), so an IMS interrupt arrives on that vector's eventfd. Then: mask entry 0, fire it, rewrite it
 * to vector 5's message, unmask, and exactly one interrupt must arrive on vector 5 and none on vector 0.
 */
bool check_ims(struct dev *d, int entries, int rounds) {
    uint64_t before = total_got(d);
    uint64_t addr[8];
    uint32_t data[8];
    const int moved = 5;
    if (entries > 4 || d->nvec <= moved) { fail("IMS check needs more vectors"); return false; }
    for (int v = 0; v < entries; v++) {
        if (!msix_message(d, v, &addr[v], &data[v])) return false;
    }
    if (!msix_message(d, moved, &addr[moved], &data[moved])) return false;
    note("MSI-X messages: vector 0 %llx/%x, vector %d %llx/%x", (unsigned long long)addr[0], data[0], moved,
         (unsigned long long)addr[moved], data[moved]);
    for (int e = 0; e < entries; e++) {
        ims_write(d, e, addr[e], data[e]);
        wr32(d, 4, 16u * e + 12, 0);
        uint32_t ctrl = rd32(d, 4, 16u * e + 12);
        if ((ctrl & 3) != IMS_CTRL_ALLOCATED) { fail("IMS entry %d control %x after unmask", e, ctrl); return false; }
    }
    bool ok = true;
    for (int r = 0; r < rounds && ok; r++) {
        for (int v = 0; v < d->nvec; v++) want[v] = d->got[v];
        for (int e = 0; e < entries; e++) {
            want[e]++;
            wr32(d, 0, R_DOORBELL_IMS, (uint32_t)e);
            R.ims_fired++;
        }
        ok = wait_for(d, want, 10000);
        if (!ok) fail("IMS round %d: not every entry arrived", r);
    }
    drain(d, 0);
    /* Mask, fire (latched in the pending bits), rewrite, unmask: one delivery with the message as it reads now. */
    uint64_t g0 = d->got[0], g5 = d->got[moved];
    wr32(d, 4, 12, IMS_CTRL_MASK);
    wr32(d, 0, R_DOORBELL_IMS, 0);
    R.ims_fired++;
    drain(d, 300);
    bool latched = (rd32(d, 4, d->ims_pending_off) & 1) != 0 && d->got[0] == g0;
    ims_write(d, 0, addr[moved], data[moved]);
    wr32(d, 4, 12, 0);
    for (int v = 0; v < d->nvec; v++) want[v] = d->got[v];
    want[moved] = g5 + 1;
    wait_for(d, want, 5000);
    drain(d, 300); /* anything extra would show up here */
    bool cleared = (rd32(d, 4, d->ims_pending_off) & 1) == 0;
    R.ims_reread_ok = ok && latched && cleared && d->got[moved] == g5 + 1 && d->got[0] == g0;
    if (!R.ims_reread_ok) {
        fail("IMS re-read: latched %d cleared %d, vector %d got %llu (want 1), vector 0 got %llu (want 0)", latched,
             cleared, moved, (unsigned long long)(d->got[moved] - g5), (unsigned long long)(d->got[0] - g0));
    }
    R.ims_received = total_got(d) - before;
    for (int e = 0; e < entries; e++) R.device_ims_delivered += rd32(d, 0, R_IMS_DELIVERED + 4u * e);
    note("IMS: %llu fired, %llu received, device counted %llu", (unsigned long long)R.ims_fired,
         (unsigned long long)R.ims_received, (unsigned long long)R.device_ims_delivered);
    return ok;
}

/*
 * Fill the vector budget with more appends, then append one more and unmask one more IMS entry: both are
 * refused, the error register says BUDGET_EXHAUSTED with the vector / entry (bit 31) in ERROR_INFO, and
 * every vector that already had a target still delivers.
 */
bool check_budget(struct dev *d) {
    R.budget_total = (int)rd32(d, 0, R_BUDGET_TOTAL);
    uint32_t exhausted0 = rd32(d, 0, R_BUDGET_EXHAUSTED);
    wr32(d, 0, R_ERROR_CODE, 0);
    while (rd32(d, 0, R_BUDGET_USED) < (uint32_t)R.budget_total) {
        int v = d->nvec;
        if (v >= d->msix_count) { fail("budget %d never fills with %d vectors", R.budget_total, v); return false; }
        if (!msix_append(d, v)) return false;
        fire_all(d, d->nvec);
        if (!collect(d, "fill budget", 10000)) return false;
        R.vectors_appended++;
    }
    if (!(rd32(d, 0, R_STATUS) & STATUS_BUDGET_FULL)) { fail("STATUS does not show the budget full"); return false; }
    int over = d->nvec;
    if (over >= d->msix_count) { fail("no vector left to exceed the budget with"); return false; }
    if (!msix_append(d, over)) return false;
    uint32_t code = rd32(d, 0, R_ERROR_CODE), info = rd32(d, 0, R_ERROR_INFO);
    uint32_t exhausted = rd32(d, 0, R_BUDGET_EXHAUSTED);
    bool msix_refused = code == ERR_BUDGET_EXHAUSTED && info == (uint32_t)over && exhausted == exhausted0 + 1;
    if (!msix_refused) fail("over-budget append: ERROR_CODE %u INFO %u EXHAUSTED %u->%u", code, info, exhausted0,
                            exhausted);
    /* The refused vector has no target: a doorbell is latched, not delivered. */
    wr32(d, 0, R_DOORBELL_MSIX, (uint32_t)over);
    drain(d, 300);
    bool no_delivery = d->got[over] == 0 && rd32(d, 0, R_MSIX_DELIVERED + 4u * over) == 0;
    if (!no_delivery) fail("the refused vector %d delivered", over);
    wr32(d, 0, R_ERROR_CODE, 0);
    const int entry = 8;
    uint64_t a;
    uint32_t dt;
    if (!msix_message(d, 0, &a, &dt)) return false;
    ims_write(d, entry, a, dt);
    wr32(d, 4, 16u * entry + 12, 0);
    uint32_t ctrl = rd32(d, 4, 16u * entry + 12);
    code = rd32(d, 0, R_ERROR_CODE);
    info = rd32(d, 0, R_ERROR_INFO);
    bool ims_refused = code == ERR_BUDGET_EXHAUSTED && info == (0x80000000u | entry) &&
                       (ctrl & 3) == IMS_CTRL_MASK && rd32(d, 0, R_BUDGET_EXHAUSTED) == exhausted0 + 2;
    if (!ims_refused) fail("over-budget IMS unmask: ERROR_CODE %u INFO %x control %x", code, info, ctrl);
    /* Existing vectors keep working. */
    d->nvec = over; /* the refused vector is not fired again */
    fire_all(d, over);
    bool still = collect(d, "after budget", 10000);
    wr32(d, 0, R_ERROR_CODE, 0);
    bool cleared = rd32(d, 0, R_ERROR_CODE) == 0;
    R.budget_error_seen = msix_refused && no_delivery && ims_refused && still && cleared;
    note("budget %d: append of vector %d and IMS entry %d refused, %d vectors still deliver", R.budget_total, over,
         entry, over);
    return R.budget_error_seen;
}

/* One descriptor: copy 24 KiB from a guest buffer to another, completion record, MSI-X vector 1 on completion. */
bool check_dma(struct dev *d) {
    const uint64_t iova = 0x40000000ull, size = 0x10000, len = 0x6000;
    uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) { fail("mmap DMA buffer"); return false; }
    memset(buf, 0, size);
    for (uint64_t i = 0; i < len; i++) buf[0x2000 + i] = (uint8_t)(i * 7 + (i >> 8) + 1);
    if (!dma_map(d, buf, iova, size)) return false;
    uint64_t *desc = (uint64_t *)buf;
    desc[0] = iova + 0x2000;
    desc[1] = iova + 0x8000;
    desc[2] = len | ((uint64_t)(1u | (1u << 16)) << 32); /* length, flags: MSI-X vector 1 */
    desc[3] = iova + 0x1000;
    uint32_t done0 = rd32(d, 0, R_DMA_COMPLETED), err0 = rd32(d, 0, R_DMA_ERRORS);
    wr32(d, 0, R_DMA_RING_BASE_LO, (uint32_t)iova);
    wr32(d, 0, R_DMA_RING_BASE_HI, (uint32_t)(iova >> 32));
    wr32(d, 0, R_DMA_RING_SIZE, 4);
    wr32(d, 0, R_DMA_CONTROL, 1);
    if (!(rd32(d, 0, R_STATUS) & (1u << 4))) { fail("DMA engine not enabled: ERROR_CODE %u", rd32(d, 0, R_ERROR_CODE)); return false; }
    for (int v = 0; v < d->nvec; v++) want[v] = d->got[v];
    want[1]++;
    wr32(d, 0, R_DMA_TAIL, 1);
    bool irq = wait_for(d, want, 10000);
    volatile uint32_t *rec = (volatile uint32_t *)(buf + 0x1000);
    bool data_ok = memcmp(buf + 0x2000, buf + 0x8000, len) == 0;
    bool ok = irq && rec[0] == 1 && rec[1] == len && data_ok && rd32(d, 0, R_DMA_HEAD) == 1 &&
              rd32(d, 0, R_DMA_COMPLETED) == done0 + 1 && rd32(d, 0, R_DMA_ERRORS) == err0 &&
              rd32(d, 0, R_DMA_LAST_STATUS) == 1;
    if (!ok) fail("DMA: interrupt %d record %x/%u data %d head %u completed %u last %x", irq, rec[0], rec[1], data_ok,
                  rd32(d, 0, R_DMA_HEAD), rd32(d, 0, R_DMA_COMPLETED), rd32(d, 0, R_DMA_LAST_STATUS));
    wr32(d, 0, R_DMA_CONTROL, 0);
    note("DMA copy of %llu bytes: %s", (unsigned long long)len, ok ? "ok" : "FAILED");
    return ok;
}
