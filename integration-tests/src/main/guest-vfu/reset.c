/*
 * Function Level Reset through the guest kernel: the device advertises FLR in its PCIe Device Capabilities, so
 * the guest's PCI core lists "flr" in reset_method and vfio-pci offers VFIO_DEVICE_RESET. That ioctl saves the
 * function's config state, sets Initiate FLR, waits 100 ms, and restores the state (MSI-X included). The device
 * resets its own state and keeps its MSI-X targets; QEMU is never told of the FLR, but the kernel's MSI-X restore
 * sets and clears Function Mask, and on the clear QEMU re-sends SET_IRQS for every vector it has in use. Either
 * way the eventfds the program set up must still receive interrupts.
 */
#define _GNU_SOURCE
#include "vfu_guest.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SCRATCH_PATTERN 0x5a17c0deu

/* The kernel's reset methods for the device, as sysfs lists them; the file is absent when there is none. */
static void read_reset_method(struct dev *d) {
    char p[300];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/reset_method", d->addr);
    int fd = open(p, O_RDONLY);
    R.reset_method[0] = 0;
    if (fd < 0) { fail("no %s: the kernel found no reset method", p); return; }
    ssize_t n = read(fd, R.reset_method, sizeof R.reset_method - 1);
    close(fd);
    R.reset_method[n > 0 ? n : 0] = 0;
    R.reset_method[strcspn(R.reset_method, "\n")] = 0;
    R.reset_method_read = true;
}

/* IMS entries holding a vector-budget unit (control bit 1). */
static int ims_allocated(struct dev *d) {
    int n = 0;
    for (int e = 0; e < d->ims_count; e++) n += (rd32(d, 4, 16u * e + 12) & IMS_CTRL_ALLOCATED) != 0;
    return n;
}

/* Fires every vector below d->nvec that has an eventfd once and waits for all of them. */
static bool every_vector_delivers(struct dev *d, int timeout_ms) {
    static uint64_t want[MAX_VECTORS];
    drain(d, 0);
    for (int v = 0; v < d->nvec; v++) {
        want[v] = d->got[v] + (d->efd[v] >= 0 ? 1 : 0);
        if (d->efd[v] >= 0) wr32(d, 0, R_DOORBELL_MSIX, (uint32_t)v);
    }
    bool ok = wait_for(d, want, timeout_ms);
    for (int v = 0; !ok && v < d->nvec; v++) {
        if (d->got[v] < want[v]) { fail("after reset: vector %d got no interrupt (of %d)", v, d->nvec); break; }
    }
    return ok;
}

/*
 * The vector check_budget had refused (it sits at d->nvec with an eventfd the guest kernel accepted). QEMU's
 * re-sent SET_IRQS include it, and with the IMS units back in the budget the device can now give it one. If it
 * holds a unit it must deliver like the others. (The doorbell check_budget latched for it is delivered when it
 * gets its target, so an interrupt may already be there; either is a delivery through the vector.)
 */
static bool refused_vector_delivers(struct dev *d) {
    int over = d->nvec;
    d->nvec = over + 1;
    bool ok = every_vector_delivers(d, 10000);
    d->nvec = over;
    return ok;
}

bool check_reset(struct dev *d) {
    read_reset_method(d);
    bool listed = strstr(R.reset_method, "flr") != NULL;
    if (R.reset_method_read && !listed) fail("reset_method is \"%s\", without flr", R.reset_method);
    struct vfio_device_info info = {.argsz = sizeof info};
    if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info)) { fail("GET_INFO: %m"); return false; }
    R.reset_flag = (info.flags & VFIO_DEVICE_FLAGS_RESET) != 0;
    if (!R.reset_flag) { fail("VFIO_DEVICE_GET_INFO flags %x lack VFIO_DEVICE_FLAGS_RESET", info.flags); return false; }

    /* State the reset must clear: a scratch register; IMS entries holding budget units (left by check_ims). */
    wr32(d, 0, R_SCRATCH, SCRATCH_PATTERN);
    uint32_t written = rd32(d, 0, R_SCRATCH);
    int ims_before = ims_allocated(d);
    uint32_t used_before = rd32(d, 0, R_BUDGET_USED);
    if (written != SCRATCH_PATTERN) { fail("SCRATCH reads %08x before the reset", written); return false; }

    uint64_t t0 = now_ms();
    if (ioctl(d->fd, VFIO_DEVICE_RESET)) { fail("VFIO_DEVICE_RESET: %m"); return false; }
    R.reset_ms = now_ms() - t0;

    uint32_t scratch = rd32(d, 0, R_SCRATCH), id = rd32(d, 0, R_ID), status = rd32(d, 0, R_STATUS);
    int ims_after = ims_allocated(d);
    uint32_t used_after = rd32(d, 0, R_BUDGET_USED);
    /* The IMS units return to the budget; the MSI-X vectors keep theirs, plus the refused one if it got one. */
    bool refused = d->nvec < MAX_VECTORS && d->efd[d->nvec] >= 0;
    uint32_t kept = used_before - (uint32_t)ims_before;
    R.refused_vector_unit = refused && used_after == kept + 1;
    /* The function's state is back to power-on, MSI-X stays on. */
    R.reset_ok = scratch == 0 && id == ID_VFU1 && ims_after == 0 && (status & STATUS_MSIX_ENABLED) &&
                 used_after == kept + (R.refused_vector_unit ? 1u : 0u);
    if (!R.reset_ok) {
        fail("after reset: SCRATCH %08x ID %08x STATUS %x IMS allocated %d->%d BUDGET_USED %u->%u", scratch, id,
             status, ims_before, ims_after, used_before, used_after);
    }
    R.irq_after_reset = d->nvec > 0 && every_vector_delivers(d, 10000);
    if (R.refused_vector_unit && !refused_vector_delivers(d)) {
        R.reset_ok = false;
        fail("after reset: vector %d holds a budget unit but does not deliver", d->nvec);
    }
    note("reset (%s) in %llu ms: SCRATCH %08x -> %08x, IMS units %d -> %d, BUDGET_USED %u -> %u, %d vectors %s%s",
         R.reset_method, (unsigned long long)R.reset_ms, written, scratch, ims_before, ims_after, used_before,
         used_after, d->nvec, R.irq_after_reset ? "still deliver" : "do NOT deliver",
         R.refused_vector_unit ? ", and the vector refused for budget now has a unit and delivers" : "");
    return R.reset_ok && R.irq_after_reset && listed;
}
