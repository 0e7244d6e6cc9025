package io.vfu.devices.virtioblk;

import java.util.Map;

/** Names of the Linux errno values block I/O meets, for messages an operator can act on. */
final class Errno {

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM (Operation not permitted)"),
            Map.entry(2, "ENOENT (No such file or directory)"),
            Map.entry(5, "EIO (Input/output error)"),
            Map.entry(9, "EBADF (Bad file descriptor)"),
            Map.entry(12, "ENOMEM (Cannot allocate memory)"),
            Map.entry(13, "EACCES (Permission denied)"),
            Map.entry(14, "EFAULT (Bad address)"),
            Map.entry(21, "EISDIR (Is a directory)"),
            Map.entry(22, "EINVAL (Invalid argument)"),
            Map.entry(27, "EFBIG (File too large)"),
            Map.entry(28, "ENOSPC (No space left on device)"),
            Map.entry(30, "EROFS (Read-only file system)"),
            Map.entry(95, "EOPNOTSUPP (Operation not supported)"),
            Map.entry(122, "EDQUOT (Disk quota exceeded)"));

    private Errno() {
    }

    static String describe(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }
}
