/*
 * QEMU's edu device as a measurement target (hw/misc/edu.c): ID (0x00) is the plain read, the liveness register
 * (0x04, stores the inverse of what is written) the write, the raise register (0x60) the interrupt, acknowledged
 * at 0x64. Its DMA engine moves at most 4 KiB between guest memory and its own buffer at bus address 0x40000,
 * so a 4 KiB memory-to-memory copy is two transfers (into the buffer, out of it), each ending with its MSI.
 * edu starts each transfer from a timer 100 ms (virtual clock) after the command: its copy rate is bounded by
 * that design, not by the path to it.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <linux/vfio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define EDU_IOVA 0x100000ull /* below edu's 28-bit DMA mask */
#define EDU_SPAN 0x2000ull
_Static_assert(EDU_IOVA + EDU_SPAN - 1 <= EDU_DMA_MASK, "edu would clamp the buffer's bus addresses");

static volatile uint32_t *reg(struct target *t, uint64_t off) {
    return (volatile uint32_t *)(t->d.bar[0] + off);
}

static void edu_fire(struct target *t) { *reg(t, EDU_IRQ_RAISE) = EDU_BENCH_IRQ_BIT; }

/* edu keeps irq_status bits until acknowledged; MSI is sent on every raise regardless. */
static void edu_ack(struct target *t) { *reg(t, EDU_IRQ_ACK) = EDU_BENCH_IRQ_BIT; }

static bool transfer(struct target *t, uint32_t src, uint32_t dst, uint32_t cmd) {
    *reg(t, EDU_DMA_SRC) = src;
    *reg(t, EDU_DMA_DST) = dst;
    *reg(t, EDU_DMA_COUNT) = COPY_BYTES;
    *reg(t, EDU_DMA_CMD) = EDU_DMA_RUN | EDU_DMA_IRQ | cmd;
    bool ok = wait_efd(t->irq_efd, 10000);
    *reg(t, EDU_IRQ_ACK) = EDU_DMA_IRQ_BIT;
    return ok;
}

static bool edu_copy(struct target *t, uint64_t i) {
    if (!transfer(t, (uint32_t)EDU_IOVA, EDU_DMA_BUF, 0) ||
        !transfer(t, EDU_DMA_BUF, (uint32_t)(EDU_IOVA + COPY_BYTES), EDU_DMA_TO_RAM)) {
        fail("edu: DMA copy %llu: no completion interrupt", (unsigned long long)i);
        return false;
    }
    return true;
}

/* One eventfd on MSI vector 0: guest vfio-pci enables MSI on the device. */
static bool msi_eventfd(struct target *t) {
    char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    struct vfio_irq_set *s = (struct vfio_irq_set *)buf;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) { fail("edu: eventfd: %m"); return false; }
    s->argsz = sizeof buf;
    s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    s->index = VFIO_PCI_MSI_IRQ_INDEX;
    s->start = 0;
    s->count = 1;
    memcpy(s->data, &efd, sizeof efd);
    if (ioctl(t->d.fd, VFIO_DEVICE_SET_IRQS, s)) { fail("edu: SET_IRQS MSI: %m"); return false; }
    t->irq_efd = efd;
    return true;
}

bool edu_target_open(struct target *t) {
    t->name = "edu";
    if (!pci_find_id(&t->d, EDU_VENDOR, EDU_DEVICE) || !vfio_attach(&t->d) ||
        !map_region(&t->d, VFIO_PCI_CONFIG_REGION_INDEX) || !map_region(&t->d, 0) || !pci_enable(&t->d)) return false;
    if (!t->d.bar[0]) { fail("edu: BAR0 is not mmap-able through vfio-pci"); return false; }
    t->read_reg = reg(t, EDU_ID);
    t->read_expect = EDU_ID_VALUE;
    t->write_reg = reg(t, EDU_LIVENESS);
    if (!msi_eventfd(t)) return false;
    *reg(t, EDU_IRQ_ACK) = ~0u; /* start with no interrupt status left from firmware or an earlier user */
    uint8_t *mem = mmap(NULL, EDU_SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) { fail("edu: mmap DMA memory: %m"); return false; }
    memset(mem, 0, EDU_SPAN);
    if (!dma_map(&t->d, mem, EDU_IOVA, EDU_SPAN)) return false;
    t->dma_src = mem;
    t->dma_dst = mem + COPY_BYTES;
    t->irq_fire = edu_fire;
    t->irq_ack = edu_ack;
    t->dma_copy = edu_copy;
    return true;
}
