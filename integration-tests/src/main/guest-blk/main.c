/*
 * Check mode (vfublk.mode=check, the default) prints exactly one VFU-BLK-RESULT line and one VFU-BLK-DETAIL
 * line; perf mode (vfublk.mode=perf) prints one VFU-BLK-PERF line. Exit status 0 only if every check passed.
 */
#include "blk.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static const char *tf(bool b) { return b ? "true" : "false"; }

/* Hardware queues the block layer made for vda: one mq/N folder each. */
static int queue_count(void) {
    DIR *d = opendir("/sys/block/vda/mq");
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    args_load();
    char mode[16] = "check", want_serial[32] = "", serial[64] = "";
    arg_str("mode", mode, sizeof mode);
    arg_str("serial", want_serial, sizeof want_serial);
    uint64_t want_size = arg_u64("size", 0), seed = arg_u64("seed", 1);
    uint64_t size = sysfs_u64("/sys/block/vda/size", 0) * 512;
    int queues = queue_count();
    if (size == 0) fail(DISK " not found (no /sys/block/vda/size)");
    if (strcmp(mode, "perf") == 0) {
        if (size) perf_run(arg_u64("perf_mib", 64) << 20 < size ? arg_u64("perf_mib", 64) << 20 : size,
                           (int)arg_u64("runs", 3), (int)arg_u64("qd1_ops", 2000), (int)arg_u64("qd32_ops", 8000),
                           queues);
        else printf("VFU-BLK-PERF {\"ok\":false,\"error\":\"" DISK " not found\"}\n");
        return size ? 0 : 1;
    }

    bool size_ok = size != 0 && size == want_size;
    if (size && !size_ok) fail("size %llu, expected %llu", (unsigned long long)size, (unsigned long long)want_size);
    bool serial_ok = sysfs_read("/sys/block/vda/serial", serial, sizeof serial) && strcmp(serial, want_serial) == 0;
    if (!serial_ok) fail("serial '%s', expected '%s'", serial, want_serial);
    uint64_t t0 = now_ns();
    struct pattern_result p = {0};
    struct discard_result d = {0};
    struct fs_result f = {0};
    uint64_t t_pattern = 0, t_discard = 0, t_fs = 0;
    if (size) {
        p = pattern_write_verify(size, seed, (int)arg_u64("writers", 4));
        t_pattern = now_ns();
        d = discard_check(arg_u64("discard_off", 0), arg_u64("discard_len", 0), arg_u64("zero_off", 0),
                          arg_u64("zero_len", 0), seed);
        t_discard = now_ns();
        f = fs_check(arg_u64("fs_bytes", 0), seed);
        t_fs = now_ns();
    }
    bool discard_ok = d.discard_offered && d.write_zeroes_offered && d.discard_zeros && d.zeroout_zeros &&
                      d.neighbours_ok;
    printf("VFU-BLK-RESULT {\"size_ok\":%s,\"queues\":%d,\"pattern_ok\":%s,\"discard_ok\":%s,\"fs_ok\":%s,"
           "\"bytes_written\":%llu,\"bytes_read\":%llu}\n",
           tf(size_ok), queues, tf(p.ok), tf(discard_ok), tf(f.ok), (unsigned long long)total_written(),
           (unsigned long long)total_read());
    printf("VFU-BLK-DETAIL {\"size\":%llu,\"serial\":", (unsigned long long)size);
    json_string(serial);
    printf(",\"serial_ok\":%s,\"bad_blocks\":%llu,\"discard_offered\":%s,\"write_zeroes_offered\":%s,"
           "\"discard_zeros\":%s,\"zeroout_zeros\":%s,\"neighbours_ok\":%s,\"files\":%d,\"file_bytes\":%llu,"
           "\"pattern_ms\":%llu,\"discard_ms\":%llu,\"fs_ms\":%llu,\"error\":",
           tf(serial_ok), (unsigned long long)p.bad_blocks, tf(d.discard_offered), tf(d.write_zeroes_offered),
           tf(d.discard_zeros), tf(d.zeroout_zeros), tf(d.neighbours_ok), f.files,
           (unsigned long long)f.file_bytes, (unsigned long long)(size ? (t_pattern - t0) / 1000000 : 0),
           (unsigned long long)(size ? (t_discard - t_pattern) / 1000000 : 0),
           (unsigned long long)(size ? (t_fs - t_discard) / 1000000 : 0));
    json_string(failures());
    printf("}\n");
    return size_ok && serial_ok && p.ok && discard_ok && f.ok ? 0 : 1;
}
