/*
 * vfu-guestbench: measures, from a user-space VFIO program in the guest, our device (vfu-java's memmove-ims over
 * vfio-user-pci), QEMU's in-process edu device and the floor (QEMU's ivshmem-doorbell answered by a host
 * process) the same way. The VFIO plumbing is the guest suite's (../guest-vfu/vfio_dev.c, vfu_guest.h); this
 * program adds the figures and the interrupt soak.
 */
#ifndef VFU_BENCH_H
#define VFU_BENCH_H

#include "vfu_guest.h"

/* QEMU's edu device (hw/misc/edu.c): vendor 0x1234 (QEMU), device 0x11e8, one 1 MiB MMIO BAR, one MSI vector. */
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_ID_VALUE 0x010000edu
#define EDU_LIVENESS 0x04
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u /* direction bit: 0 copies RAM into the device's buffer, 1 the buffer out to RAM */
#define EDU_DMA_IRQ 0x4u
#define EDU_DMA_IRQ_BIT 0x100u
#define EDU_DMA_BUF 0x40000u /* the device's own 4 KiB buffer, addressed by DMA src/dst */
#define EDU_DMA_MASK ((1ull << 28) - 1) /* edu clamps bus addresses to 28 bits: IOVAs must lie below 256 MiB */
#define EDU_BENCH_IRQ_BIT 0x10000u /* a raise/ack bit of our own, apart from edu's factorial and DMA bits */

/*
 * QEMU's ivshmem-doorbell (docs/specs/ivshmem-spec.rst, "PCI device registers"): vendor 0x1af4, device 0x1110,
 * a 256-byte register BAR0, MSI-X in BAR1. The bench's host echo (ivshmem_echo.c) gives the device ID 0 and is
 * itself peer 1.
 */
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define IVSHMEM_INTRMASK 0x00
#define IVSHMEM_IVPOSITION 0x08 /* the device's own ID */
#define IVSHMEM_DOORBELL 0x0c   /* bits 31..16 the peer to interrupt, 15..0 its vector */
#define IVSHMEM_SELF_ID 0u
#define IVSHMEM_ECHO_ID 1u

#define COPY_BYTES 4096u

/* One device under measurement: the same operations for ours and for edu. */
struct target {
    const char *name;
    struct dev d;
    volatile uint32_t *read_reg;  /* a plain read-only register */
    volatile uint32_t *write_reg; /* a register a write has no side effect on */
    volatile uint32_t *shm_reg;   /* a register in an mmap'd (shared-memory) area, or NULL */
    uint32_t read_expect;
    int irq_efd;                  /* the eventfd of the interrupt the doorbell raises */
    void (*irq_fire)(struct target *t);
    void (*irq_ack)(struct target *t);
    bool (*dma_copy)(struct target *t, uint64_t i); /* one 4 KiB copy, to its completion interrupt; NULL: none */
    uint8_t *dma_src, *dma_dst;
};

/* One run's samples of a figure, in nanoseconds. */
struct figure {
    uint64_t p50[16], p99[16];
    double rate[16];
    int runs;
};

/* main.c */
uint64_t now_ns(void);
long arg(const char *key, long def);
bool wait_efd(int efd, int timeout_ms);

/* stats.c */
void percentiles(uint64_t *samples, int n, uint64_t *p50, uint64_t *p99);
uint64_t median_u64(const uint64_t *v, int n);
double median_d(const double *v, int n);

/* vfu_target.c, edu_target.c, ivshmem_target.c */
bool vfu_target_open(struct target *t, long shm_bar, long shm_off);
bool edu_target_open(struct target *t);
bool ivshmem_target_open(struct target *t);

/* measure.c */
bool measure_read(struct target *t, volatile uint32_t *reg, int n, struct figure *f);
bool measure_write(struct target *t, int n, struct figure *f);
bool measure_irq(struct target *t, int n, struct figure *f);
bool measure_dma(struct target *t, int n, struct figure *f);
uint64_t clock_cost_ns(void);

/* soak.c */
int soak_run(struct dev *d, uint64_t total, int start_vectors, int max_vectors, int ims_entries);

#endif
