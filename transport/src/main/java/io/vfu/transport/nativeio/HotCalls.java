package io.vfu.transport.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The calls on the message and interrupt path (recvmsg, sendmsg, write) bound <em>without</em> errno capture,
 * so a call allocates nothing in any compilation state: the JDK's capture check makes a segment slice per
 * call ({@code SharedUtils.checkCaptureSegment}), which the JIT removes only when the whole chain is inlined,
 * and it was measured not to be on the deep interrupt path (~40 B per interrupt).
 *
 * <p>Rule: a failed call is repeated through {@link Libc}'s capturing wrapper to learn errno. That is exact
 * for these calls because a -1 return means nothing was transferred: recvmsg and sendmsg on a stream socket
 * return a count as soon as any byte moved, and an eventfd write is all 8 bytes or nothing. The repeat either
 * fails the same way (the errno is then captured) or succeeds (after EINTR, as a retry would).
 */
@SuppressWarnings("restricted") // binding libc is this class's one job
final class HotCalls {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor MSG = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle RECVMSG = bind("recvmsg", MSG);
    private static final MethodHandle SENDMSG = bind("sendmsg", MSG);
    private static final MethodHandle WRITE =
            bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));

    private HotCalls() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    /** recvmsg(2): bytes received (0 at end of stream); errors as {@link Libc#recvmsg}. */
    static long recvmsg(int fd, MemorySegment msghdr, int flags) throws NativeCallException {
        long r = recvmsgNoErrno(fd, msghdr, flags);
        return r >= 0 ? r : Libc.recvmsg(fd, msghdr, flags);
    }

    /** recvmsg(2) as it returns: -1 on any failure, errno not read (a polling attempt that found nothing). */
    static long recvmsgNoErrno(int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) RECVMSG.invokeExact(fd, msghdr, flags);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * sendmsg(2): bytes sent; errors as {@link Libc#sendmsg}. Rule: the errno-reading repeat never waits
     * (MSG_DONTWAIT): after a send timeout (SO_SNDTIMEO) the socket is still full and the repeat reports EAGAIN
     * at once, so a stuck peer costs one timeout, not two.
     */
    static long sendmsg(int fd, MemorySegment msghdr, int flags) throws NativeCallException {
        long r;
        try {
            r = (long) SENDMSG.invokeExact(fd, msghdr, flags);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return r >= 0 ? r : Libc.sendmsg(fd, msghdr, flags | MSG_DONTWAIT);
    }

    private static final int MSG_DONTWAIT = 0x40;

    /** write(2): bytes written, or -1 for EAGAIN on a non-blocking fd; errors as {@link Libc#write}. */
    static long write(int fd, MemorySegment buf, long count) throws NativeCallException {
        long r;
        try {
            r = (long) WRITE.invokeExact(fd, buf, count);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return r >= 0 ? r : Libc.write(fd, buf, count);
    }
}
