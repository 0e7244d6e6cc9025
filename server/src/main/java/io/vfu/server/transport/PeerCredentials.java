package io.vfu.server.transport;

/** The credentials of the process at the other end of a Unix socket (SO_PEERCRED), fixed at connect time. */
public record PeerCredentials(long pid, long uid, long gid) {
}
