/*
 * ivshmem-echo: the host end of the guest bench's floor target (io.vfu.it.perf.IvshmemEcho starts it). It is an
 * ivshmem server (QEMU docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol") for exactly one client,
 * QEMU's ivshmem-doorbell device, and at the same time that device's only other peer: when the guest rings
 * peer 1's vector v (Doorbell = 1 << 16 | v), QEMU signals this program's eventfd for v, and this program signals
 * the eventfd QEMU raises the device's MSI-X vector v from. The round trip guest MMIO -> this process -> eventfd
 * -> QEMU's main loop -> MSI-X has the two inter-process wake-ups of an out-of-process device and no device
 * protocol at all.
 *
 * Usage: ivshmem-echo SOCKET VECTORS   (VECTORS as in -device ivshmem-doorbell,vectors=N; 1..16)
 * stdout: "ivshmem-echo ready" once SOCKET listens; "ivshmem-echo echoed N" when it ends, N the doorbells it
 * answered (the sum of its eventfd counters: doorbells rung before it woke up share one answer).
 * Exit 0 when QEMU disconnects or on SIGTERM/SIGINT; 1 on any failed system call or protocol surprise.
 * Written for this project.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PROTOCOL_VERSION 0 /* spec: "The protocol version number, currently zero" */
#define QEMU_ID 0          /* spec: "The first client to connect to the server receives ID zero" */
#define ECHO_ID 1          /* this program as the other peer; the guest's Doorbell names it */
#define SHM_MESSAGE (-1)   /* spec: "The number -1, accompanied by the file descriptor for the shared memory" */
#define SHM_BYTES 4096     /* BAR2; QEMU maps it as a BAR, so a power of two. The bench never touches it */
#define MAX_VECTORS 16

static unsigned long long echoed; /* doorbells answered */

static bool sys_fail(const char *what) {
    fprintf(stderr, "ivshmem-echo: %s: %s\n", what, strerror(errno));
    return false;
}

static bool close_fd(int *fd, const char *what) {
    if (*fd < 0) return true;
    int rc = close(*fd);
    *fd = -1;
    return rc == 0 || sys_fail(what);
}

/* One server message: an 8-byte little-endian signed number, with fd attached as SCM_RIGHTS when fd >= 0. */
static bool send_msg(int sock, int64_t value, int fd) {
    uint64_t le = htole64((uint64_t)value);
    struct iovec iov = {.iov_base = &le, .iov_len = sizeof le};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do n = sendmsg(sock, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys_fail("sendmsg");
    /* Rule: a message is all 8 bytes in one send, so its fd can only travel with it. */
    if (n != (ssize_t)sizeof le) { fprintf(stderr, "ivshmem-echo: short send (%zd of 8)\n", n); return false; }
    return true;
}

struct echo {
    int sig, listener, conn, shm;
    int vectors;
    int peer[MAX_VECTORS]; /* QEMU writes these when the guest rings ECHO_ID; this program reads them */
    int self[MAX_VECTORS]; /* QEMU reads these to raise its MSI-X vectors; this program writes them */
};

/*
 * The messages in the spec's order: version, the client's ID, -1 with the shared memory, the connect
 * notification of the other peer (its ID once per vector, each with that vector's eventfd), then interrupt
 * setup (the client's own ID once per vector, each with the eventfd it receives that vector on). QEMU reads
 * the first three synchronously while it realizes the device and the rest from its main loop.
 */
static bool greet(struct echo *e) {
    e->shm = memfd_create("ivshmem-echo", MFD_CLOEXEC);
    if (e->shm < 0) return sys_fail("memfd_create");
    if (ftruncate(e->shm, SHM_BYTES) != 0) return sys_fail("ftruncate shared memory");
    for (int v = 0; v < e->vectors; v++) {
        /* Non-blocking either way: QEMU sets O_NONBLOCK on both, and the file description is shared. */
        e->peer[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (e->peer[v] < 0) return sys_fail("eventfd");
        e->self[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (e->self[v] < 0) return sys_fail("eventfd");
    }
    if (!send_msg(e->conn, PROTOCOL_VERSION, -1) || !send_msg(e->conn, QEMU_ID, -1) ||
        !send_msg(e->conn, SHM_MESSAGE, e->shm)) return false;
    for (int v = 0; v < e->vectors; v++) {
        if (!send_msg(e->conn, ECHO_ID, e->peer[v])) return false;
    }
    for (int v = 0; v < e->vectors; v++) {
        if (!send_msg(e->conn, QEMU_ID, e->self[v])) return false;
    }
    /* QEMU holds its own copy of the memory; nothing here reads or writes it. */
    return close_fd(&e->shm, "close shared memory");
}

/* Waits for the one client; false on error, true with conn < 0 if a signal came first. */
static bool accept_qemu(struct echo *e) {
    struct pollfd pf[2] = {{.fd = e->listener, .events = POLLIN}, {.fd = e->sig, .events = POLLIN}};
    for (;;) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return sys_fail("poll");
        }
        if (pf[1].revents) return true;
        if (pf[0].revents & POLLIN) break;
        if (pf[0].revents) { fprintf(stderr, "ivshmem-echo: listener revents %#x\n", pf[0].revents); return false; }
    }
    e->conn = accept4(e->listener, NULL, NULL, SOCK_CLOEXEC);
    if (e->conn < 0) return sys_fail("accept4");
    return true;
}

/* Vector v was rung (once or more since the last read): clear it, raise the same vector of the device once. */
static bool echo_vector(struct echo *e, int v) {
    uint64_t count, one = 1;
    ssize_t n = read(e->peer[v], &count, sizeof count);
    /* Rule: another wake-up may find the counter already read; that is not an error. */
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n < 0) return sys_fail("read eventfd");
    if (n != (ssize_t)sizeof count) { fprintf(stderr, "ivshmem-echo: eventfd read of %zd bytes\n", n); return false; }
    /* Spec: "To interrupt a peer, the device writes the 8-byte integer 1 in native byte order". */
    do n = write(e->self[v], &one, sizeof one);
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys_fail("write eventfd");
    if (n != (ssize_t)sizeof one) { fprintf(stderr, "ivshmem-echo: eventfd write of %zd bytes\n", n); return false; }
    echoed += count;
    return true;
}

/* Echoes until QEMU closes the connection (true) or a signal (true) or an error (false). */
static bool serve(struct echo *e) {
    struct pollfd pf[2 + MAX_VECTORS];
    int n = 2 + e->vectors;
    pf[0] = (struct pollfd){.fd = e->conn, .events = POLLIN};
    pf[1] = (struct pollfd){.fd = e->sig, .events = POLLIN};
    for (int v = 0; v < e->vectors; v++) pf[2 + v] = (struct pollfd){.fd = e->peer[v], .events = POLLIN};
    for (;;) {
        if (poll(pf, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            return sys_fail("poll");
        }
        for (int v = 0; v < e->vectors; v++) {
            if (pf[2 + v].revents & POLLIN) {
                if (!echo_vector(e, v)) return false;
            } else if (pf[2 + v].revents) {
                fprintf(stderr, "ivshmem-echo: eventfd %d revents %#x\n", v, pf[2 + v].revents);
                return false;
            }
        }
        if (pf[1].revents) return true;
        if (pf[0].revents) {
            char b;
            ssize_t r = read(e->conn, &b, 1);
            if (r == 0) return true; /* QEMU went away */
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return sys_fail("read socket");
            /* Rule: the protocol is one-way (server to client); a client that talks is not QEMU's device. */
            fprintf(stderr, "ivshmem-echo: the client sent data on a one-way connection\n");
            return false;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: ivshmem-echo SOCKET VECTORS\n"); return 1; }
    struct echo e = {.sig = -1, .listener = -1, .conn = -1, .shm = -1};
    for (int v = 0; v < MAX_VECTORS; v++) e.peer[v] = e.self[v] = -1;
    char *end;
    long vectors = strtol(argv[2], &end, 10);
    if (*argv[2] == 0 || *end != 0 || vectors < 1 || vectors > MAX_VECTORS) {
        fprintf(stderr, "ivshmem-echo: VECTORS must be 1..%d, got %s\n", MAX_VECTORS, argv[2]);
        return 1;
    }
    e.vectors = (int)vectors;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "ivshmem-echo: socket path longer than %zu bytes\n", sizeof addr.sun_path - 1);
        return 1;
    }
    strcpy(addr.sun_path, argv[1]);

    bool ok = true, bound = false;
    sigset_t stop;
    /* SIGTERM and SIGINT arrive through a signalfd in the poll set, so every wait ends cleanly on them. */
    if (sigemptyset(&stop) || sigaddset(&stop, SIGTERM) || sigaddset(&stop, SIGINT)) ok = sys_fail("sigset");
    if (ok && sigprocmask(SIG_BLOCK, &stop, NULL) != 0) ok = sys_fail("sigprocmask");
    if (ok && (e.sig = signalfd(-1, &stop, SFD_CLOEXEC)) < 0) ok = sys_fail("signalfd");
    if (ok && (e.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) ok = sys_fail("socket");
    if (ok && bind(e.listener, (struct sockaddr *)&addr, sizeof addr) != 0) ok = sys_fail("bind");
    bound = ok;
    if (ok && listen(e.listener, 1) != 0) ok = sys_fail("listen");
    if (ok && (printf("ivshmem-echo ready\n") < 0 || fflush(stdout) != 0)) ok = sys_fail("stdout");
    if (ok) ok = accept_qemu(&e);
    /* Rule: one client only; the socket goes as soon as it has connected (or the wait ended). */
    ok = close_fd(&e.listener, "close listener") && ok;
    if (bound && unlink(addr.sun_path) != 0) ok = sys_fail("unlink socket");
    if (ok && e.conn >= 0) ok = greet(&e) && serve(&e);

    ok = close_fd(&e.conn, "close connection") && ok;
    ok = close_fd(&e.shm, "close shared memory") && ok;
    for (int v = 0; v < MAX_VECTORS; v++) {
        ok = close_fd(&e.peer[v], "close eventfd") && ok;
        ok = close_fd(&e.self[v], "close eventfd") && ok;
    }
    ok = close_fd(&e.sig, "close signalfd") && ok;
    if (printf("ivshmem-echo echoed %llu\n", echoed) < 0 || fflush(stdout) != 0) ok = false;
    return ok ? 0 : 1;
}
