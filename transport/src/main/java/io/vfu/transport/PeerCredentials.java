package io.vfu.transport;

import io.vfu.transport.nativeio.Fds;

/**
 * The credentials of the process at the other end of a Unix socket (SO_PEERCRED), fixed at connect time.
 * Spec "Authentication": AF_UNIX relies on OS access control; a server may further refuse other users.
 */
public record PeerCredentials(long pid, long uid, long gid) {

    /** Whether the peer runs as the same user as this process. */
    public boolean isSameUser() {
        return uid == Fds.currentUid();
    }
}
