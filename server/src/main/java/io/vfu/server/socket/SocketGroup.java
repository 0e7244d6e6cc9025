package io.vfu.server.socket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.OptionalLong;

/**
 * The group a device socket file is given, so that with a mode such as {@code 0660} that group's members may
 * connect: a group name ({@code "kvm"}) looked up when the socket is created, or a numeric gid ({@code "107"})
 * used as it is. Setting it needs the server to be root, or the file's owner and a member of the group.
 *
 * @param spec the name or the decimal gid, as configured
 */
public record SocketGroup(String spec) {

    public SocketGroup {
        // Rule: a decimal gid in range, or a name of the portable form (what groupadd accepts, plus capitals).
        if (spec == null || !(spec.matches("[0-9]{1,10}") || spec.matches("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?"))) {
            throw new IllegalArgumentException("socket group must be a group name or a numeric gid: " + spec);
        }
        if (spec.matches("[0-9]+") && Long.parseLong(spec) > PeerPolicy.MAX_ID) {
            throw new IllegalArgumentException("socket group gid out of range: " + spec);
        }
    }

    /** The group of gid {@code gid}. */
    public static SocketGroup ofGid(long gid) {
        return new SocketGroup(Long.toString(gid));
    }

    /** The gid, when the group was given as a number. */
    public OptionalLong gid() {
        return spec.matches("[0-9]+") ? OptionalLong.of(Long.parseLong(spec)) : OptionalLong.empty();
    }

    /**
     * Gives {@code path} (not a symbolic link's target) this group.
     *
     * @throws IOException naming the path and the group when the group does not exist or cannot be set
     */
    public void applyTo(Path path) throws IOException {
        try {
            if (gid().isPresent()) {
                // The "unix" view takes the number as it is (gid_t bits in an int), with no name lookup.
                Files.setAttribute(path, "unix:gid", (int) gid().getAsLong(), LinkOption.NOFOLLOW_LINKS);
            } else {
                GroupPrincipal g = path.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(spec);
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(g);
            }
        } catch (UserPrincipalNotFoundException e) {
            throw new IOException(path + ": socket group " + spec + " does not exist", e);
        } catch (IOException | UnsupportedOperationException e) {
            throw new IOException(path + ": cannot set socket group " + spec + ": "
                    + (e instanceof IOException x ? io.vfu.transport.nativeio.ErrnoNames.reason(x) : e.getMessage()),
                    e);
        }
    }

    @Override
    public String toString() {
        return spec;
    }
}
