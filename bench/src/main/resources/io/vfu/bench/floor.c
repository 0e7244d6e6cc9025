/*
 * The physical floor for vfu-java's latency figures: a raw Unix-socket ping-pong of a 24-byte request and a
 * 24-byte reply between two processes (the size of a 4-byte REGION_READ request header + payload), with no
 * protocol work at all. Also measures the one-way message rate (sender streams, receiver drains).
 *
 * Usage: floor ITERATIONS  -> prints "rtt_ns <n1> <n2> ..." is too big, so it prints percentiles:
 *   p50_ns p90_ns p99_ns max_ns oneway_msgs_per_s
 * Written for this project; built by the bench command with gcc -O2.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 24

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int read_full(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    if (iters < 100) iters = 100;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    char buf[MSG];
    if (pid == 0) {
        close(sv[0]);
        /* Echo phase: answer every request with a reply of the same size. */
        for (long i = 0; i < iters; i++) {
            if (read_full(sv[1], buf, MSG)) _exit(2);
            if (write(sv[1], buf, MSG) != MSG) _exit(3);
        }
        /* One-way phase: drain, then acknowledge once at the end. */
        for (long i = 0; i < iters * 5; i++) {
            if (read_full(sv[1], buf, MSG)) _exit(4);
        }
        if (write(sv[1], buf, 1) != 1) _exit(5);
        _exit(0);
    }
    close(sv[1]);
    memset(buf, 0x5a, sizeof buf);
    uint64_t *rtt = malloc(sizeof(uint64_t) * (size_t)iters);
    for (long i = 0; i < iters; i++) {
        uint64_t t0 = now_ns();
        if (write(sv[0], buf, MSG) != MSG) return 1;
        if (read_full(sv[0], buf, MSG)) return 1;
        rtt[i] = now_ns() - t0;
    }
    uint64_t t0 = now_ns();
    for (long i = 0; i < iters * 5; i++) {
        if (write(sv[0], buf, MSG) != MSG) return 1;
    }
    if (read_full(sv[0], buf, 1)) return 1;
    double secs = (double)(now_ns() - t0) / 1e9;
    waitpid(pid, NULL, 0);
    qsort(rtt, (size_t)iters, sizeof(uint64_t), cmp_u64);
    printf("%llu %llu %llu %llu %.0f\n",
           (unsigned long long)rtt[iters / 2], (unsigned long long)rtt[iters * 9 / 10],
           (unsigned long long)rtt[iters * 99 / 100], (unsigned long long)rtt[iters - 1],
           (double)(iters * 5) / secs);
    free(rtt);
    return 0;
}
