package io.vfu.server;

import io.vfu.server.dma.FileMappings;
import io.vfu.server.dma.MappingBudget;
import io.vfu.transport.ReceivePolling;
import java.time.Duration;

/**
 * What the server grants one client at most: how long it waits on a client, and how much of the process's
 * mappings one session may hold. Every bound exists so that one bad client cannot hurt the other devices.
 *
 * @param handshake             how long a new connection may take to complete VERSION before it is closed (spec
 *                              "Connection Initiation": VERSION is the first message); QEMU sends it at once
 * @param send                  how long a send to a client may make no progress (it stopped reading) before that
 *                              session is ended
 * @param mappedFilesPerSession client files one session may have mapped for direct DMA at once (each is
 *                              mapped once, shared by all its windows; see {@link FileMappings})
 * @param mappedFilesPerProcess the same over every session of the process, within {@code vm.max_map_count}
 *                              (see {@link MappingBudget})
 * @param polling               how long a session's thread may busy-poll for its client's next message before it
 *                              sleeps ({@link ReceivePolling}; {@link #DEFAULT_POLL_MAX})
 */
public record ServerLimits(Duration handshake, Duration send, int mappedFilesPerSession, long mappedFilesPerProcess,
                           ReceivePolling polling) {

    /**
     * The default polling window: QEMU's iothreads poll up to 32,768 ns by default; 50 us also covers the gap a
     * synchronous client leaves between a reply and its next request on a small VM (measured 15-25 us here),
     * where a wake-up costs 10-20 us. Measured on a 2-core VM with a TCG guest, it did not slow the guest's
     * paths, and it took our config read below libvfio-user's at p50 and p99 (BENCH.md).
     */
    public static final Duration DEFAULT_POLL_MAX = Duration.ofNanos(50_000);

    /**
     * 5 s to speak and to read: far above what a live client needs, short enough that a stuck one frees its
     * device soon. 1,024 files per session; the process budget derived from this machine's
     * {@code vm.max_map_count}. Session polling up to {@link #DEFAULT_POLL_MAX}.
     */
    public static final ServerLimits DEFAULT = new ServerLimits(Duration.ofSeconds(5), Duration.ofSeconds(5),
            FileMappings.DEFAULT_SESSION_LIMIT, MappingBudget.forThisProcess().limit(),
            ReceivePolling.upTo(ServerLimits.DEFAULT_POLL_MAX));

    public ServerLimits {
        // Rule: time bounds are positive; a zero would mean "wait forever", which is what they exist to prevent.
        if (handshake == null || handshake.isNegative() || handshake.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive: " + handshake);
        }
        if (send == null || send.isNegative() || send.isZero()) {
            throw new IllegalArgumentException("send timeout must be positive: " + send);
        }
        if (mappedFilesPerSession < 0 || mappedFilesPerProcess < 0) {
            throw new IllegalArgumentException("mapping limits must not be negative");
        }
        java.util.Objects.requireNonNull(polling, "polling");
    }

    /** These limits with other time bounds. */
    public ServerLimits withTimeouts(Duration handshake, Duration send) {
        return new ServerLimits(handshake, send, mappedFilesPerSession, mappedFilesPerProcess, polling);
    }

    /** These limits with other mapping budgets. */
    public ServerLimits withMappedFiles(int perSession, long perProcess) {
        return new ServerLimits(handshake, send, perSession, perProcess, polling);
    }

    /** These limits with polling windows of up to {@code max} (zero: no polling). */
    public ServerLimits withPollMax(Duration max) {
        return new ServerLimits(handshake, send, mappedFilesPerSession, mappedFilesPerProcess,
                ReceivePolling.upTo(max));
    }
}
