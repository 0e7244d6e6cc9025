package io.vfu.server.socket;

import java.util.Objects;
import java.util.Optional;

/**
 * Who may open a device socket file: its mode and, optionally, its group (spec "Authentication"). The file
 * stays owned by the server's user. {@link UnixSocketListener#bind(java.nio.file.Path, SocketAccess)} applies
 * both before the socket listens.
 *
 * @param mode  the permission bits
 * @param group the group to give the file, or empty to keep the server's primary group
 */
public record SocketAccess(SocketMode mode, Optional<SocketGroup> group) {

    /** Mode 0600, the server's group: only the server's own user may connect. */
    public static final SocketAccess PRIVATE = new SocketAccess(SocketMode.PRIVATE, Optional.empty());

    public SocketAccess {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(group, "group");
    }

    @Override
    public String toString() {
        return "mode " + mode + group.map(g -> " group " + g).orElse("");
    }
}
