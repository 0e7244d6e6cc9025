/*
 * The floor as a measurement target: QEMU's ivshmem-doorbell (hw/misc/ivshmem-pci.c), whose only other peer is
 * the bench's host echo (ivshmem_echo.c, peer 1). The interrupt figure rings peer 1's vector 0 through Doorbell
 * (0x0c); QEMU signals the echo's eventfd, the echo signals the device's own vector-0 eventfd, and QEMU's main
 * loop raises MSI-X vector 0: the path of an out-of-process device with no device protocol, so no device served
 * from another process can deliver an interrupt faster on this machine. The read (IVPosition, 0x08: the ID the
 * echo assigned) and the write (Interrupt Mask, 0x00: QEMU stores it, nothing reads it with MSI-X) are
 * registers QEMU handles itself, like edu's. The device has no DMA engine: no DMA figure.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <linux/vfio.h>

#define IRQ_VECTOR 0

static volatile uint32_t *reg(struct target *t, uint64_t off) {
    return (volatile uint32_t *)(t->d.bar[0] + off);
}

static void ivshmem_fire(struct target *t) { *reg(t, IVSHMEM_DOORBELL) = (IVSHMEM_ECHO_ID << 16) | IRQ_VECTOR; }

/* MSI-X is edge-like: nothing to acknowledge. */
static void ivshmem_ack(struct target *t) { (void)t; }

bool ivshmem_target_open(struct target *t) {
    t->name = "floor";
    for (int v = 0; v < MAX_VECTORS; v++) t->d.efd[v] = -1;
    if (!pci_find_id(&t->d, IVSHMEM_VENDOR, IVSHMEM_DEVICE) || !vfio_attach(&t->d) ||
        !map_region(&t->d, VFIO_PCI_CONFIG_REGION_INDEX) || !map_region(&t->d, 0) || !pci_enable(&t->d)) return false;
    /* Rule: every device is measured through the same kind of access, a user-space mapping of the BAR. */
    /* vfio-pci maps a BAR smaller than a page only if it starts a page; on this machine SeaBIOS puts this
     * 256-byte one at a page start with nothing else in that page (seen at 0xfeb00000, BAR1 at 0xfeb01000). */
    if (!t->d.bar[0]) { fail("floor: BAR0 is not mmap-able through vfio-pci (does it start a page?)"); return false; }
    t->read_reg = reg(t, IVSHMEM_IVPOSITION);
    t->read_expect = IVSHMEM_SELF_ID;
    if (*t->read_reg != IVSHMEM_SELF_ID) { fail("floor: IVPosition %u, the echo assigns %u (is it the server?)",
                                                *t->read_reg, IVSHMEM_SELF_ID); return false; }
    t->write_reg = reg(t, IVSHMEM_INTRMASK);
    if (!msix_append(&t->d, IRQ_VECTOR)) return false;
    t->irq_efd = t->d.efd[IRQ_VECTOR];
    t->irq_fire = ivshmem_fire;
    t->irq_ack = ivshmem_ack;
    t->dma_copy = NULL;
    /* The spec gives no way to see that the peer is connected (a doorbell to a missing peer is dropped): one
     * untimed round trip shows the whole path works before anything is timed. */
    ivshmem_fire(t);
    if (!wait_efd(t->irq_efd, 10000)) { fail("floor: no interrupt back from the echo peer within 10 s"); return false; }
    return true;
}
