package io.vfu.server.socket;

import io.vfu.transport.PeerCredentials;
import io.vfu.transport.TransportLimits;
import io.vfu.transport.UnixSocketTransport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfu.transport.nativeio.Fds;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Whom a device serves, from the credentials SO_PEERCRED reports. */
class PeerPolicyTest {

    private static final long ME = Fds.currentUid();
    /** A uid and gid other than ours (65534 is nobody/nogroup; if we are nobody, 65533). */
    private static final long OTHER = ME == 65534 ? 65533 : 65534;

    private static PeerCredentials peer(long uid, long gid) {
        return new PeerCredentials(4242, uid, gid);
    }

    @Test
    void theServersOwnUidIsAlwaysServed() {
        assertTrue(PeerPolicy.SAME_USER.admits(peer(ME, OTHER)));
        assertFalse(PeerPolicy.SAME_USER.admits(peer(OTHER, OTHER)));
    }

    @Test
    void aListedUidIsServedWhateverItsGid() {
        PeerPolicy p = new PeerPolicy(Set.of(OTHER), Set.of());
        assertTrue(p.admits(peer(OTHER, 12345)));
        assertFalse(p.admits(peer(OTHER + 1, OTHER)), "a uid list does not admit that number as a gid");
    }

    @Test
    void aListedGidIsServedWhateverItsUid() {
        PeerPolicy p = new PeerPolicy(Set.of(), Set.of(107L));
        assertTrue(p.admits(peer(OTHER, 107)));
        assertFalse(p.admits(peer(107, OTHER)), "a gid list does not admit that number as a uid");
        assertFalse(p.admits(peer(OTHER, OTHER)));
    }

    @Test
    void aRealPeerOnAListenedSocketIsJudgedByItsCredentials(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path sock = dir.resolve("p.sock");
        try (UnixSocketListener l = UnixSocketListener.bind(sock);
             UnixSocketTransport c = UnixSocketTransport.connect(sock, TransportLimits.DEFAULT);
             UnixSocketTransport s = l.accept(TransportLimits.DEFAULT)) {
            PeerCredentials pc = s.peerCredentials();
            assertTrue(PeerPolicy.SAME_USER.admits(pc));
            assertTrue(new PeerPolicy(Set.of(), Set.of(pc.gid())).admits(new PeerCredentials(pc.pid(), OTHER,
                    pc.gid())), "the gid SO_PEERCRED reported admits a peer of another uid");
        }
    }
}
