/*
 * vfu-guest: a user-space VFIO driver for the vfu-java default device, run inside a Debian guest booted by
 * QEMU 11 with the device attached through vfio-user-pci. Register offsets follow device-model/LAYOUT.md.
 */
#ifndef VFU_GUEST_H
#define VFU_GUEST_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define VFU_VENDOR 0x1b5a
#define VFU_DEVICE 0x0001
#define VFU_CLASS 0x088000

/* BAR0 registers (LAYOUT.md, "BAR0: registers"). */
#define R_ID 0x000
#define R_VERSION 0x004
#define R_MSIX_COUNT 0x008
#define R_IMS_COUNT 0x00c
#define R_BUDGET_TOTAL 0x010
#define R_BUDGET_USED 0x014
#define R_BUDGET_EXHAUSTED 0x018
#define R_STATUS 0x01c
#define R_ERROR_CODE 0x020
#define R_ERROR_INFO 0x024
#define R_DOORBELL_MSIX 0x040
#define R_DOORBELL_IMS 0x044
#define R_SHARED_STATUS 0x030 /* BAR2 offset of the published registers, 0: none */
#define R_SCRATCH 0x080
#define R_DMA_RING_BASE_LO 0x100
#define R_DMA_RING_BASE_HI 0x104
#define R_DMA_RING_SIZE 0x108
#define R_DMA_CONTROL 0x10c
#define R_DMA_HEAD 0x110
#define R_DMA_TAIL 0x114
#define R_DMA_COMPLETED 0x118
#define R_DMA_ERRORS 0x11c
#define R_DMA_LAST_STATUS 0x120
#define R_MSIX_DELIVERED 0x2000
#define R_IMS_DELIVERED 0x4000

#define ID_VFU1 0x31554656u
#define STATUS_MSIX_ENABLED (1u << 0)
#define STATUS_BUDGET_FULL (1u << 6)
#define ERR_BUDGET_EXHAUSTED 1u
#define IMS_CTRL_MASK 1u
#define IMS_CTRL_ALLOCATED 2u

#define MAX_VECTORS 2048

/* What the guest found; printed as VFU-GUEST-RESULT and VFU-GUEST-DETAIL. */
struct result {
    int vectors_appended;
    uint64_t fired, received;
    uint64_t ims_fired, ims_received;
    bool ims_reread_ok, budget_error_seen, dma_ok;
    bool config_ok, bound;
    uint64_t device_msix_delivered, device_ims_delivered;
    uint64_t churn_fired, churn_appended;
    int budget_total;
    char dma_mode[8];
    char reset_method[64];
    bool reset_method_read, reset_flag, reset_ok, irq_after_reset, refused_vector_unit;
    uint64_t reset_ms;
    char error[512];
};

/* The device opened through VFIO. BARs are accessed through mmap when the region allows it. */
struct dev {
    char addr[32];
    int container, group, fd;
    volatile uint8_t *bar[6];
    uint64_t bar_off[6], bar_size[6];
    uint64_t cfg_off;
    int msix_count;
    int efd[MAX_VECTORS];
    uint64_t got[MAX_VECTORS];
    int nvec;
    int ims_count;
    uint32_t pba_off, ims_pending_off;
};

extern struct result R;

/* log.c: console lines prefixed with the program's LOG_PREFIX (defined in its main.c); fail() also fills R.error. */
extern const char *const LOG_PREFIX;
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ms(void);

/* vfio_dev.c */
bool pci_find(struct dev *d);
bool pci_find_id(struct dev *d, long vendor, long device);
bool vfio_attach(struct dev *d);
bool map_region(struct dev *d, int index);
bool pci_enable(struct dev *d);
bool pci_check_config(struct dev *d);
bool vfio_open(struct dev *d);
uint32_t rd32(struct dev *d, int bar, uint64_t off);
void wr32(struct dev *d, int bar, uint64_t off, uint32_t v);
bool msix_append(struct dev *d, int vector);
int drain(struct dev *d, int timeout_ms);
bool wait_for(struct dev *d, const uint64_t *want, int timeout_ms);
bool msix_message(struct dev *d, int vector, uint64_t *addr, uint32_t *data);
bool dma_map(struct dev *d, void *va, uint64_t iova, uint64_t size);

/* checks.c */
bool check_append(struct dev *d, int upto);
bool check_churn(struct dev *d, uint64_t total, int extra_vectors);
bool check_ims(struct dev *d, int entries, int rounds);
bool check_budget(struct dev *d);
bool check_dma(struct dev *d);

/* reset.c */
bool check_reset(struct dev *d);

#endif
