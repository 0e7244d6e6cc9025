package io.vfu.protocol;

/**
 * The UNIX errno values a vfio-user reply can carry (Linux x86-64 numbering, which the spec's host-order wire
 * uses). Like Kafka's error codes, a value is protocol: it never changes once shipped; only names may.
 */
public enum Errno {
    EPERM(1),
    ENOENT(2),
    EIO(5),
    E2BIG(7),
    EBADF(9),
    EAGAIN(11),
    ENOMEM(12),
    EACCES(13),
    EFAULT(14),
    EBUSY(16),
    EEXIST(17),
    ENODEV(19),
    EINVAL(22),
    ENOTTY(25),
    ENOSPC(28),
    ERANGE(34),
    ENOSYS(38),
    EOVERFLOW(75),
    EMSGSIZE(90),
    EOPNOTSUPP(95),
    ENOTCONN(107),
    ETIMEDOUT(110);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The named errno for a code, or {@code null} when we have no name for it (the code is still valid). */
    public static Errno fromCode(long code) {
        for (Errno e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return null;
    }
}
