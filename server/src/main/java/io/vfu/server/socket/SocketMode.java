package io.vfu.server.socket;

import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The permission bits of a device socket file (spec "Authentication": for AF_UNIX the socket file's
 * permissions are the access control). connect(2) on a Unix socket needs write permission on the file, so
 * each class of user either may connect ({@code rw-}) or may not ({@code ---}).
 *
 * <p>Valid modes: the owner has {@code rw-}; group and other each have {@code rw-} or nothing; no execute,
 * setuid, setgid or sticky bit. So {@code 0600} (the default), {@code 0660} (the socket's group may connect)
 * and {@code 0666} (anyone may connect). A mode that lets others connect is deliberate, since it must be
 * written out; whom the server then serves is still decided by {@link PeerPolicy}.
 *
 * @param bits the mode, e.g. {@code 0660}
 */
public record SocketMode(int bits) {

    /** Only the server's own user may connect. */
    public static final SocketMode PRIVATE = new SocketMode(0600);

    public SocketMode {
        // Rule: setuid, setgid and sticky mean nothing on a socket; a mode asking for them is a mistake.
        if ((bits & ~0777) != 0) {
            throw new IllegalArgumentException("socket mode " + octal(bits) + " sets setuid, setgid or sticky bits");
        }
        // Rule: execute means nothing on a socket either.
        if ((bits & 0111) != 0) {
            throw new IllegalArgumentException("socket mode " + octal(bits) + " sets execute bits");
        }
        // Rule: the owner keeps rw-: the server's own user connects, and so does its stale-socket probe.
        if ((bits & 0600) != 0600) {
            throw new IllegalArgumentException("socket mode " + octal(bits) + " must give the owner rw-");
        }
        // Rule: group and other each may connect (rw-) or not (---); read or write alone is half a decision.
        for (int shift : new int[] {3, 0}) {
            int c = (bits >> shift) & 7;
            if (c != 0 && c != 6) {
                throw new IllegalArgumentException("socket mode " + octal(bits)
                        + " must give group and other rw- or nothing");
            }
        }
    }

    /**
     * Parses an octal mode of three or four digits, {@code "0660"} or {@code "660"}.
     *
     * @throws IllegalArgumentException for anything else, or a mode outside the rules above
     */
    public static SocketMode parse(String text) {
        if (text == null || !text.matches("[0-7]{3,4}")) {
            throw new IllegalArgumentException("socket mode must be octal digits such as \"0660\": " + text);
        }
        return new SocketMode(Integer.parseInt(text, 8));
    }

    /** The same bits as {@link PosixFilePermission}s. */
    public Set<PosixFilePermission> permissions() {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE};
        for (int i = 0; i < order.length; i++) {
            if ((bits & (0400 >> i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    /** The mode as four octal digits, e.g. {@code 0660}. */
    @Override
    public String toString() {
        return octal(bits);
    }

    private static String octal(int bits) {
        return String.format("%04o", bits);
    }
}
