package io.vfu.server.socket;

import io.vfu.transport.PeerCredentials;

import java.util.Set;

/**
 * Which connected peers may drive a device, judged from their SO_PEERCRED credentials (spec
 * "Authentication": a server may refine the socket file's access control). A peer is admitted when it runs
 * as the server's own uid, when its uid is in {@code allowedUids}, or when its gid is in {@code allowedGids}.
 *
 * <p>The gid is the one SO_PEERCRED reports: the peer's effective gid when it called connect(2). Supplementary
 * groups are not consulted (the kernel does not report them), so a QEMU admitted by group must run with that
 * group as its effective gid (KubeVirt and Fedora's libvirt run QEMU as uid and gid 107).
 *
 * @param allowedUids uids admitted besides the server's own
 * @param allowedGids effective gids admitted
 */
public record PeerPolicy(Set<Long> allowedUids, Set<Long> allowedGids) {

    /** The largest uid or gid: ids are u32, and (id_t) -1 is no id. */
    public static final long MAX_ID = 0xFFFF_FFFEL;

    /** Only the server's own uid. */
    public static final PeerPolicy SAME_USER = new PeerPolicy(Set.of(), Set.of());

    public PeerPolicy {
        allowedUids = Set.copyOf(allowedUids);
        allowedGids = Set.copyOf(allowedGids);
    }

    /** Whether {@code peer} may drive the device. */
    public boolean admits(PeerCredentials peer) {
        // Rule: the server's own uid, a listed uid, or a listed effective gid; nothing else.
        return peer.isSameUser() || allowedUids.contains(peer.uid()) || allowedGids.contains(peer.gid());
    }
}
