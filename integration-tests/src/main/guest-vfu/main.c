/*
 * Runs every check in order and prints one result line on the console:
 *   VFU-GUEST-RESULT {"vectors_appended":N,"fired":N,"received":N,"ims_fired":N,"ims_received":N,
 *                     "ims_reread_ok":B,"budget_error_seen":B,"dma_mmap_ok":B,"dma_msg_ok":B,
 *                     "reset_method":S,"reset_ok":B,"irq_after_reset":B}
 * The DMA field of the mode this boot does not test is null (kernel argument vfu.dma=mmap|msg says which);
 * reset_method is the device's sysfs reset_method (null if the kernel lists none). The reset runs last, so that
 * it cannot disturb the other checks.
 * A second line, VFU-GUEST-DETAIL, carries what the host cross-checks (device counters, config check, errors).
 * Kernel arguments: vfu.vectors (appended one at a time, default 32), vfu.churn (interrupts, default 100000),
 * vfu.churn_vectors (appended during the churn, default 8), vfu.ims_rounds (default 200), vfu.hold_ms (how long
 * the device stays open after the result line, default 0).
 */
#define _GNU_SOURCE
#include "vfu_guest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct result R;
static struct dev D;

uint64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

const char *const LOG_PREFIX = "vfu-guest-test";

static char cmdline[2048];

static long arg(const char *key, long def) {
    char k[64];
    snprintf(k, sizeof k, " %s=", key);
    char *p = strstr(cmdline, k);
    return p ? strtol(p + strlen(k), NULL, 0) : def;
}

static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar((unsigned char)*s >= 0x20 ? *s : ' ');
    }
    putchar('"');
}

static const char *tf(bool b) { return b ? "true" : "false"; }

static void report(void) {
    bool mmap_mode = strcmp(R.dma_mode, "mmap") == 0;
    printf("VFU-GUEST-RESULT {\"vectors_appended\":%d,\"fired\":%llu,\"received\":%llu,\"ims_fired\":%llu,"
           "\"ims_received\":%llu,\"ims_reread_ok\":%s,\"budget_error_seen\":%s,\"dma_mmap_ok\":%s,"
           "\"dma_msg_ok\":%s,\"reset_method\":",
           R.vectors_appended, (unsigned long long)R.fired, (unsigned long long)R.received,
           (unsigned long long)R.ims_fired, (unsigned long long)R.ims_received, tf(R.ims_reread_ok),
           tf(R.budget_error_seen), mmap_mode ? tf(R.dma_ok) : "null", mmap_mode ? "null" : tf(R.dma_ok));
    if (R.reset_method_read) json_string(R.reset_method); else printf("null");
    printf(",\"reset_ok\":%s,\"irq_after_reset\":%s}\n", tf(R.reset_ok), tf(R.irq_after_reset));
    printf("VFU-GUEST-DETAIL {\"config_ok\":%s,\"bound\":%s,\"device_msix_delivered\":%llu,"
           "\"device_ims_delivered\":%llu,\"churn_fired\":%llu,\"churn_appended\":%llu,\"budget_total\":%d,"
           "\"reset_flag\":%s,\"reset_ms\":%llu,\"refused_vector_unit_after_reset\":%s,\"dma_mode\":",
           tf(R.config_ok), tf(R.bound), (unsigned long long)R.device_msix_delivered,
           (unsigned long long)R.device_ims_delivered, (unsigned long long)R.churn_fired,
           (unsigned long long)R.churn_appended, R.budget_total, tf(R.reset_flag), (unsigned long long)R.reset_ms,
           tf(R.refused_vector_unit));
    json_string(R.dma_mode);
    printf(",\"error\":");
    json_string(R.error);
    printf("}\n");
    fflush(stdout);
}

static uint64_t device_msix_total(struct dev *d) {
    uint64_t s = 0;
    for (int v = 0; v < d->msix_count; v++) s += rd32(d, 0, R_MSIX_DELIVERED + 4u * v);
    return s;
}

int main(void) {
    FILE *f = fopen("/proc/cmdline", "r");
    cmdline[0] = ' ';
    if (f) { if (!fgets(cmdline + 1, sizeof cmdline - 2, f)) cmdline[1] = 0; fclose(f); }
    char *m = strstr(cmdline, " vfu.dma=");
    snprintf(R.dma_mode, sizeof R.dma_mode, "%s", m && strncmp(m + 9, "mmap", 4) == 0 ? "mmap" : "msg");
    for (int v = 0; v < MAX_VECTORS; v++) D.efd[v] = -1;
    uint64_t t0 = now_ms();
    bool ok = pci_find(&D);
    if (ok) R.config_ok = pci_check_config(&D);
    ok = ok && R.config_ok && vfio_open(&D);
    if (ok) {
        if (rd32(&D, 0, R_ID) != ID_VFU1) fail("BAR0 ID %08x", rd32(&D, 0, R_ID));
        if ((int)rd32(&D, 0, R_MSIX_COUNT) != D.msix_count) fail("MSIX_COUNT disagrees with the capability");
        if ((int)rd32(&D, 0, R_IMS_COUNT) != D.ims_count) fail("IMS_COUNT disagrees with the locator");
        uint64_t base = device_msix_total(&D);
        ok = check_append(&D, (int)arg("vfu.vectors", 32)) &&
             check_churn(&D, (uint64_t)arg("vfu.churn", 100000), (int)arg("vfu.churn_vectors", 8));
        if (ok) {
            check_ims(&D, 4, (int)arg("vfu.ims_rounds", 200));
            check_budget(&D);
            /* Device counters (MSI-X deliveries to eventfds) against what the guest counted in MSI-X rounds;
             * IMS interrupts also land on MSI-X eventfds but the device counts them under IMS_DELIVERED. */
            R.device_msix_delivered = device_msix_total(&D) - base;
            if (R.device_msix_delivered != R.received) fail("device delivered %llu MSI-X, guest counted %llu",
                    (unsigned long long)R.device_msix_delivered, (unsigned long long)R.received);
        }
        R.dma_ok = check_dma(&D);
        check_reset(&D);
    }
    note("finished in %llu ms", (unsigned long long)(now_ms() - t0));
    report();
    /* Keep the device open for a moment so that the host can read the server's metrics as the run left them,
     * before closing the VFIO fds disables MSI-X. */
    usleep((useconds_t)arg("vfu.hold_ms", 0) * 1000);
    return R.error[0] ? 1 : 0;
}
