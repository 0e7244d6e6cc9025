package io.vfu.protocol;

/**
 * vfio-user command numbers (spec "Commands" table). The numbers are protocol and never change.
 * Command 14 (the removed dirty-page command) is deliberately absent: it decodes as unknown.
 */
public enum Command {
    VERSION(1),
    DMA_MAP(2),
    DMA_UNMAP(3),
    DEVICE_GET_INFO(4),
    DEVICE_GET_REGION_INFO(5),
    DEVICE_GET_REGION_IO_FDS(6),
    DEVICE_GET_IRQ_INFO(7),
    DEVICE_SET_IRQS(8),
    REGION_READ(9),
    REGION_WRITE(10),
    DMA_READ(11),
    DMA_WRITE(12),
    DEVICE_RESET(13),
    REGION_WRITE_MULTI(15),
    DEVICE_FEATURE(16),
    MIG_DATA_READ(17),
    MIG_DATA_WRITE(18);

    private static final Command[] BY_CODE = new Command[19];

    static {
        for (Command c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;

    Command(int code) {
        this.code = code;
    }

    /** The wire value of this command (u16). */
    public int code() {
        return code;
    }

    /** The command for a wire value, or {@code null} when the value names no known command. */
    public static Command fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
