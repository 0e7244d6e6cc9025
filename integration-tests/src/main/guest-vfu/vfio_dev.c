/* Finding the device, its config space, and driving it through VFIO (type1v2 container, eventfd MSI-X). */
#define _GNU_SOURCE
#include "vfu_guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static long read_hex_file(const char *dir, const char *name) {
    char p[512], buf[64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    return strtol(buf, NULL, 16);
}

static bool write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return false;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text);
}

/* The first function with these IDs in sysfs; its address goes to d->addr. */
bool pci_find_id(struct dev *d, long vendor, long device) {
    DIR *dir = opendir("/sys/bus/pci/devices");
    if (!dir) { fail("no /sys/bus/pci/devices"); return false; }
    struct dirent *e;
    bool found = false;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char p[300];
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s", e->d_name);
        if (read_hex_file(p, "vendor") == vendor && read_hex_file(p, "device") == device) {
            snprintf(d->addr, sizeof d->addr, "%.31s", e->d_name);
            found = true;
            break;
        }
    }
    closedir(dir);
    if (!found) fail("device %04lx:%04lx not found on the PCI bus", vendor, device);
    return found;
}

bool pci_find(struct dev *d) { return pci_find_id(d, VFU_VENDOR, VFU_DEVICE); }

static uint32_t page_up(uint32_t v) { return v < 4096 ? 4096 : (v + 4095) & ~4095u; }

static uint32_t le(const uint8_t *c, int off, int width) {
    uint32_t v = 0;
    for (int i = 0; i < width; i++) v |= (uint32_t)c[off + i] << (8 * i);
    return v;
}

/* IDs, class, BAR kinds and sizes, and the capability chain PM -> MSI-X -> PCIe -> vendor (IMS locator). */
bool pci_check_config(struct dev *d) {
    char p[300];
    uint8_t c[256];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/config", d->addr);
    int fd = open(p, O_RDONLY);
    if (fd < 0 || pread(fd, c, sizeof c, 0) != (ssize_t)sizeof c) { fail("cannot read %s", p); return false; }
    close(fd);
    bool ok = true;
    if (le(c, 0, 2) != VFU_VENDOR || le(c, 2, 2) != VFU_DEVICE) { fail("ids %08x", le(c, 0, 4)); ok = false; }
    if ((le(c, 8, 4) >> 8) != VFU_CLASS) { fail("class %06x", le(c, 8, 4) >> 8); ok = false; }
    if (le(c, 0x2c, 4) != ((VFU_DEVICE << 16) | VFU_VENDOR)) { fail("subsystem %08x", le(c, 0x2c, 4)); ok = false; }
    if ((c[0x0e] & 0x7f) != 0) { fail("header type %02x", c[0x0e]); ok = false; }
    for (int b = 0; b < 6; b += 2) {
        if ((le(c, 0x10 + 4 * b, 4) & 0xf) != 0x4) { fail("BAR%d is not 64-bit memory", b); ok = false; }
    }
    if (!(le(c, 6, 2) & 0x10)) { fail("no capability list"); return false; }
    const uint8_t ids[] = {0x01, 0x11, 0x10, 0x09};
    int pos = c[0x34], n = 0;
    while (pos && n < 8) {
        if (n < 4 && c[pos] != ids[n]) { fail("capability %d at %02x is %02x", n, pos, c[pos]); ok = false; }
        if (c[pos] == 0x11) {
            d->msix_count = (le(c, pos + 2, 2) & 0x7ff) + 1;
            d->pba_off = le(c, pos + 8, 4) & ~7u;
            if (le(c, pos + 4, 4) != 2 || (le(c, pos + 8, 4) & 7) != 2 || d->pba_off != page_up(16u * d->msix_count)) {
                fail("MSI-X table/PBA %08x %08x", le(c, pos + 4, 4), le(c, pos + 8, 4)); ok = false;
            }
        }
        if (c[pos] == 0x09) {
            if (c[pos + 2] != 0x10 || c[pos + 3] != 1) { fail("IMS locator length/type"); ok = false; }
            d->ims_count = (int)le(c, pos + 12, 4);
            d->ims_pending_off = le(c, pos + 8, 4) & ~7u;
            if (le(c, pos + 4, 4) != 4 || (le(c, pos + 8, 4) & 7) != 4 ||
                d->ims_pending_off != page_up(16u * d->ims_count)) {
                fail("IMS locator BIR/offsets %08x %08x", le(c, pos + 4, 4), le(c, pos + 8, 4)); ok = false;
            }
        }
        pos = c[pos + 1];
        n++;
    }
    if (n != 4) { fail("capability chain has %d entries, want 4", n); ok = false; }
    /* BAR sizes from the kernel's resource file ("start end flags" lines): powers of two that hold the
     * registers (0x4000 + 4 per IMS entry), the MSI-X table + PBA and the IMS entries + pending bits. */
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/resource", d->addr);
    FILE *f = fopen(p, "r");
    uint64_t need[6] = {0x4000u + 4u * (uint64_t)d->ims_count, 0, d->pba_off + 8u * ((d->msix_count + 63u) / 64u), 0,
                        d->ims_pending_off + 8u * ((d->ims_count + 63u) / 64u), 0};
    for (int b = 0; f && b < 6; b++) {
        unsigned long long s, e, fl;
        if (fscanf(f, "%llx %llx %llx", &s, &e, &fl) != 3) { ok = false; break; }
        uint64_t size = e ? e - s + 1 : 0;
        bool fits = need[b] == 0 ? size == 0 : (size >= need[b] && (size & (size - 1)) == 0);
        if (!fits) { fail("BAR%d size %llx does not hold %llx", b, (unsigned long long)size,
                          (unsigned long long)need[b]); ok = false; }
    }
    if (f) fclose(f); else ok = false;
    return ok;
}

bool map_region(struct dev *d, int index) {
    struct vfio_region_info ri = {.argsz = sizeof ri, .index = index};
    if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri)) { fail("region %d info: %m", index); return false; }
    if (index == VFIO_PCI_CONFIG_REGION_INDEX) { d->cfg_off = ri.offset; return true; }
    d->bar_off[index] = ri.offset;
    d->bar_size[index] = ri.size;
    if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) {
        void *m = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)ri.offset);
        if (m != MAP_FAILED) d->bar[index] = m;
    }
    return true;
}

uint32_t rd32(struct dev *d, int bar, uint64_t off) {
    if (d->bar[bar]) return *(volatile uint32_t *)(d->bar[bar] + off);
    uint32_t v = 0xffffffff;
    if (pread(d->fd, &v, 4, (off_t)(d->bar_off[bar] + off)) != 4) return 0xffffffff;
    return v;
}

void wr32(struct dev *d, int bar, uint64_t off, uint32_t v) {
    if (d->bar[bar]) { *(volatile uint32_t *)(d->bar[bar] + off) = v; return; }
    if (pwrite(d->fd, &v, 4, (off_t)(d->bar_off[bar] + off)) != 4) fail("BAR%d write %llx: %m", bar,
                                                                         (unsigned long long)off);
}

/* driver_override + drivers_probe, then group -> type1v2 container -> device fd. */
bool vfio_attach(struct dev *d) {
    char p[300], link[300];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver_override", d->addr);
    if (!write_file(p, "vfio-pci")) { fail("driver_override: %m"); return false; }
    if (!write_file("/sys/bus/pci/drivers_probe", d->addr)) { fail("drivers_probe: %m"); return false; }
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", d->addr);
    ssize_t n = readlink(p, link, sizeof link - 1);
    if (n < 0) { fail("no IOMMU group (is intel_iommu=on?): %m"); return false; }
    link[n] = 0;
    snprintf(p, sizeof p, "/dev/vfio/%s", strrchr(link, '/') + 1);
    d->container = open("/dev/vfio/vfio", O_RDWR);
    d->group = open(p, O_RDWR);
    if (d->container < 0 || d->group < 0) { fail("open %s: %m", p); return false; }
    if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) { fail("VFIO API version"); return false; }
    struct vfio_group_status gs = {.argsz = sizeof gs};
    if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        fail("group not viable"); return false;
    }
    if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container)) { fail("SET_CONTAINER: %m"); return false; }
    if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) { fail("SET_IOMMU type1v2: %m"); return false; }
    d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->addr);
    if (d->fd < 0) { fail("GET_DEVICE_FD: %m"); return false; }
    return true;
}

/* Memory Space + Bus Master in COMMAND: without Bus Master QEMU drops MSI/MSI-X and DMA. */
bool pci_enable(struct dev *d) {
    uint16_t cmd = 0;
    if (pread(d->fd, &cmd, 2, (off_t)(d->cfg_off + 4)) != 2) { fail("read COMMAND: %m"); return false; }
    cmd |= 0x6;
    if (pwrite(d->fd, &cmd, 2, (off_t)(d->cfg_off + 4)) != 2) { fail("write COMMAND: %m"); return false; }
    return true;
}

/* vfio_attach, BAR0/2/4 mapped, Memory and Bus Master on, MSI-X without NORESIZE. */
bool vfio_open(struct dev *d) {
    if (!vfio_attach(d)) return false;
    R.bound = true;
    if (!map_region(d, VFIO_PCI_CONFIG_REGION_INDEX) || !map_region(d, 0) || !map_region(d, 2) ||
        !map_region(d, 4)) return false;
    if (!pci_enable(d)) return false;
    struct vfio_irq_info ii = {.argsz = sizeof ii, .index = VFIO_PCI_MSIX_IRQ_INDEX};
    if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii)) { fail("MSI-X irq info: %m"); return false; }
    if (ii.flags & VFIO_IRQ_INFO_NORESIZE) { fail("MSI-X is NORESIZE: no dynamic append"); return false; }
    if ((int)ii.count != d->msix_count) { fail("MSI-X count %u vs cap %d", ii.count, d->msix_count); }
    note("bound %s to vfio-pci, BAR0 %s, BAR2 %s, BAR4 %s, %d MSI-X vectors", d->addr,
         d->bar[0] ? "mmap" : "pread", d->bar[2] ? "mmap" : "pread", d->bar[4] ? "mmap" : "pread", ii.count);
    return true;
}

/* One VFIO_DEVICE_SET_IRQS per vector: the first enables MSI-X, later ones append while it stays enabled. */
bool msix_append(struct dev *d, int vector) {
    char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    struct vfio_irq_set *s = (struct vfio_irq_set *)buf;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) { fail("eventfd: %m"); return false; }
    s->argsz = sizeof buf;
    s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    s->index = VFIO_PCI_MSIX_IRQ_INDEX;
    s->start = (uint32_t)vector;
    s->count = 1;
    memcpy(s->data, &efd, sizeof efd);
    if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s)) { fail("SET_IRQS vector %d: %m", vector); close(efd); return false; }
    d->efd[vector] = efd;
    if (vector >= d->nvec) d->nvec = vector + 1;
    return true;
}

/* Reads every eventfd once (non-blocking) after waiting up to timeout_ms for any; returns interrupts seen. */
int drain(struct dev *d, int timeout_ms) {
    static struct pollfd pf[MAX_VECTORS];
    int n = 0;
    for (int v = 0; v < d->nvec; v++) {
        if (d->efd[v] > 0) { pf[n].fd = d->efd[v]; pf[n].events = POLLIN; pf[n].revents = 0; n++; }
    }
    if (poll(pf, (nfds_t)n, timeout_ms) <= 0) return 0;
    int seen = 0;
    for (int v = 0; v < d->nvec; v++) {
        uint64_t c;
        if (d->efd[v] > 0 && read(d->efd[v], &c, sizeof c) == sizeof c) {
            d->got[v] += c;
            seen += (int)c;
        }
    }
    return seen;
}

/* Waits until got[v] >= want[v] for every vector; false on timeout. */
bool wait_for(struct dev *d, const uint64_t *want, int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        bool all = true;
        for (int v = 0; v < d->nvec; v++) {
            if (d->got[v] < want[v]) { all = false; break; }
        }
        if (all) return true;
        uint64_t t = now_ms();
        if (t >= end) return false;
        drain(d, (int)(end - t));
    }
}

/*
 * The MSI message the guest kernel programmed for a vector, read from the MSI-X table in BAR2 (QEMU's
 * emulation of it). Through the VFIO region the table reads as all-ones, so it is read through a mapping of the
 * BAR: the VFIO mmap if the kernel allows one over the table, else sysfs resource2.
 */
bool msix_message(struct dev *d, int vector, uint64_t *addr, uint32_t *data) {
    static volatile uint8_t *table;
    if (!table) {
        if (d->bar[2] && *(volatile uint32_t *)(d->bar[2] + 12) != 0xffffffff) {
            table = d->bar[2];
        } else {
            char p[300];
            snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/resource2", d->addr);
            int fd = open(p, O_RDWR | O_SYNC);
            void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 0x10000, PROT_READ, MAP_SHARED, fd, 0);
            if (m == MAP_FAILED) { fail("cannot map the MSI-X table (%s): %m", p); return false; }
            table = m;
        }
    }
    volatile uint32_t *e = (volatile uint32_t *)(table + 16 * vector);
    *addr = ((uint64_t)e[1] << 32) | e[0];
    *data = e[2];
    if ((*addr >> 20) != 0xfee) { fail("vector %d message address %llx is not an MSI address", vector,
                                       (unsigned long long)*addr); return false; }
    return true;
}

bool dma_map(struct dev *d, void *va, uint64_t iova, uint64_t size) {
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof m,
                                         .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                         .vaddr = (uint64_t)(uintptr_t)va, .iova = iova, .size = size};
    if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &m)) { fail("MAP_DMA: %m"); return false; }
    return true;
}
