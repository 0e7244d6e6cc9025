/*
 * Our device as a measurement target: ID (BAR0 0x000) is the plain read, SCRATCH[0] the write, DOORBELL_MSIX
 * of vector 0 the interrupt, and one ring descriptor (4 KiB, completion interrupt on MSI-X vector 1) a DMA copy.
 * Register offsets follow device-model/LAYOUT.md.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define DMA_IOVA 0x40000000ull
#define DMA_SPAN 0x10000ull
#define RING_ENTRIES 16u
#define RECORDS 0x1000u /* completion records, 8 bytes each */
#define SRC 0x2000u
#define DST 0x4000u
#define IRQ_VECTOR 0
#define DMA_VECTOR 1

static uint8_t *ring_mem;

static volatile uint32_t *reg(struct target *t, uint64_t off) {
    return (volatile uint32_t *)(t->d.bar[0] + off);
}

static void vfu_fire(struct target *t) { *reg(t, R_DOORBELL_MSIX) = IRQ_VECTOR; }

/* MSI-X is edge-like: nothing to acknowledge. */
static void vfu_ack(struct target *t) { (void)t; }

/* Descriptor i % RING_ENTRIES: copy SRC to DST, record at RECORDS + 8 * slot, MSI-X DMA_VECTOR on completion. */
static bool vfu_copy(struct target *t, uint64_t i) {
    uint32_t slot = (uint32_t)(i % RING_ENTRIES);
    uint64_t *desc = (uint64_t *)(ring_mem + 32u * slot);
    volatile uint32_t *rec = (volatile uint32_t *)(ring_mem + RECORDS + 8u * slot);
    rec[0] = 0;
    rec[1] = 0;
    desc[0] = DMA_IOVA + SRC;
    desc[1] = DMA_IOVA + DST;
    desc[2] = COPY_BYTES | ((uint64_t)(1u | ((uint32_t)DMA_VECTOR << 16)) << 32); /* length; flags: MSI-X vector */
    desc[3] = DMA_IOVA + RECORDS + 8u * slot;
    __sync_synchronize(); /* the descriptor is in memory before the doorbell */
    *reg(t, R_DMA_TAIL) = (slot + 1) % RING_ENTRIES;
    if (!wait_efd(t->d.efd[DMA_VECTOR], 10000)) { fail("vfu: DMA copy %llu: no completion interrupt",
                                                       (unsigned long long)i); return false; }
    if (rec[0] != 1 || rec[1] != COPY_BYTES) { fail("vfu: DMA copy %llu: record %x/%u", (unsigned long long)i,
                                                    rec[0], rec[1]); return false; }
    return true;
}

static bool dma_setup(struct target *t) {
    ring_mem = mmap(NULL, DMA_SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring_mem == MAP_FAILED) { fail("vfu: mmap DMA memory: %m"); return false; }
    memset(ring_mem, 0, DMA_SPAN);
    if (!dma_map(&t->d, ring_mem, DMA_IOVA, DMA_SPAN)) return false;
    t->dma_src = ring_mem + SRC;
    t->dma_dst = ring_mem + DST;
    *reg(t, R_DMA_CONTROL) = 0;
    *reg(t, R_DMA_RING_BASE_LO) = (uint32_t)DMA_IOVA;
    *reg(t, R_DMA_RING_BASE_HI) = (uint32_t)(DMA_IOVA >> 32);
    *reg(t, R_DMA_RING_SIZE) = RING_ENTRIES;
    *reg(t, R_DMA_CONTROL) = 1; /* enabling zeroes head and tail */
    if (!(*reg(t, R_STATUS) & (1u << 4))) { fail("vfu: DMA engine not enabled: ERROR_CODE %u",
                                                 *reg(t, R_ERROR_CODE)); return false; }
    return true;
}

bool vfu_target_open(struct target *t, long shm_bar, long shm_off) {
    t->name = "vfu";
    for (int v = 0; v < MAX_VECTORS; v++) t->d.efd[v] = -1;
    if (!pci_find(&t->d) || !pci_check_config(&t->d) || !vfio_open(&t->d)) return false;
    /* Rule: both devices are measured through the same kind of access, a user-space mapping of the BAR. */
    if (!t->d.bar[0]) { fail("vfu: BAR0 is not mmap-able through vfio-pci"); return false; }
    t->read_reg = reg(t, R_ID);
    t->read_expect = ID_VFU1;
    t->write_reg = reg(t, R_SCRATCH);
    if (shm_off >= 0) {
        if (shm_bar < 0 || shm_bar > 5 || !t->d.bar[shm_bar] || (uint64_t)shm_off + 4 > t->d.bar_size[shm_bar]) {
            fail("vfu: shared-memory register BAR%ld+0x%lx is not in a mapped BAR", shm_bar, shm_off);
            return false;
        }
        t->shm_reg = (volatile uint32_t *)(t->d.bar[shm_bar] + shm_off);
    } else {
        /* By default: STATUS as the device publishes it in BAR2 memory the guest maps (LAYOUT.md "Published
         * registers"), located by BAR0 SHARED_STATUS; a device that publishes none skips the figure. */
        uint32_t base = *reg(t, R_SHARED_STATUS);
        if (base && t->d.bar[2] && (uint64_t)base + R_STATUS + 4 <= t->d.bar_size[2]) {
            t->shm_reg = (volatile uint32_t *)(t->d.bar[2] + base + R_STATUS);
        }
    }
    if (!msix_append(&t->d, IRQ_VECTOR) || !msix_append(&t->d, DMA_VECTOR)) return false;
    t->irq_efd = t->d.efd[IRQ_VECTOR];
    t->irq_fire = vfu_fire;
    t->irq_ack = vfu_ack;
    t->dma_copy = vfu_copy;
    return dma_setup(t);
}
