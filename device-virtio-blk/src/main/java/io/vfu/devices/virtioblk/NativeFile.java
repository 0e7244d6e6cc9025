package io.vfu.devices.virtioblk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * A file opened with open(2) and used through pread(2), pwrite(2), fdatasync(2) and fallocate(2) by FFM, so
 * that block I/O goes straight between the file and a {@link MemorySegment} (guest memory the server mapped),
 * and holes can be punched. Linux x86_64 only, like the server. Thread-safe: positional calls share no offset.
 */
final class NativeFile implements AutoCloseable {

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_DIRECT = 0x4000;
    static final int O_CLOEXEC = 0x80000;
    static final int FALLOC_FL_KEEP_SIZE = 0x1;
    static final int FALLOC_FL_PUNCH_HOLE = 0x2;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    static final int EINTR = 4;
    static final int EOPNOTSUPP = 95;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");
    private static final MethodHandle OPEN = handle("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle PREAD = handle("pread64", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle PWRITE = handle("pwrite64", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle PREADV = handle("preadv", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle PWRITEV = handle("pwritev", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    /** Rule: at most IOV_MAX (1024 on Linux) buffers per preadv/pwritev. */
    static final int IOV_MAX = 1024;
    private static final MethodHandle FDATASYNC = handle("fdatasync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FALLOCATE = handle("fallocate", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private NativeFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    private static MethodHandle handle(String name, FunctionDescriptor fn, Linker.Option... more) {
        Linker.Option[] options = new Linker.Option[more.length + 1];
        options[0] = ERRNO_OPTION;
        System.arraycopy(more, 0, options, 1, more.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fn, options);
    }

    /** Opens {@code path} read-only or read-write, with O_DIRECT if asked (the file must exist). */
    static NativeFile open(Path path, boolean writable, boolean direct) throws IOException {
        int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | (direct ? O_DIRECT : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), flags, 0);
            if (fd < 0) {
                throw failure("open", path, errno(state));
            }
            return new NativeFile(path, fd);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reads {@code memory.byteSize()} bytes at file offset {@code position}; a short file is an error. */
    void read(MemorySegment memory, long position) throws IOException {
        transfer(memory, position, false);
    }

    /** Writes all of {@code memory} at file offset {@code position}. */
    void write(MemorySegment memory, long position) throws IOException {
        transfer(memory, position, true);
    }

    /**
     * Reads into {@code memory[0..count)} in order from file offset {@code position} with preadv(2) (one system
     * call per {@link #IOV_MAX} buffers); a short file is an error.
     */
    void readv(MemorySegment[] memory, int count, long position) throws IOException {
        vectored(memory, count, position, false);
    }

    /** Writes {@code memory[0..count)} in order at file offset {@code position} with pwritev(2). */
    void writev(MemorySegment[] memory, int count, long position) throws IOException {
        vectored(memory, count, position, true);
    }

    private void vectored(MemorySegment[] memory, int count, long position, boolean write) throws IOException {
        long at = position;
        for (int first = 0; first < count; ) {
            int n = Math.min(IOV_MAX, count - first);
            long want = 0;
            long done;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment iov = arena.allocate(16L * n, 8);
                for (int i = 0; i < n; i++) {
                    MemorySegment m = memory[first + i];
                    iov.set(ValueLayout.ADDRESS, 16L * i, m);
                    iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, m.byteSize());
                    want += m.byteSize();
                }
                MemorySegment state = arena.allocate(CAPTURE);
                done = write ? (long) PWRITEV.invokeExact(state, fd, iov, n, at)
                        : (long) PREADV.invokeExact(state, fd, iov, n, at);
                if (done < 0) {
                    int errno = errno(state);
                    if (errno != EINTR) {
                        throw failure(write ? "pwritev" : "preadv", path, errno);
                    }
                    done = 0;
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            // Rule: a short transfer (a signal, a file system's limit) is finished buffer by buffer from where it
            // stopped, so every byte is moved exactly once.
            long skip = done;
            for (int i = 0; i < n && done < want; i++) {
                MemorySegment m = memory[first + i];
                if (skip >= m.byteSize()) {
                    skip -= m.byteSize();
                    continue;
                }
                MemorySegment rest = m.asSlice(skip);
                transfer(rest, at + done, write);
                done += rest.byteSize();
                skip = 0;
            }
            at += want;
            first += n;
        }
    }

    private void transfer(MemorySegment memory, long position, boolean write) throws IOException {
        long done = 0;
        long size = memory.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (done < size) {
                MemorySegment rest = memory.asSlice(done);
                long n = write
                        ? (long) PWRITE.invokeExact(state, fd, rest, size - done, position + done)
                        : (long) PREAD.invokeExact(state, fd, rest, size - done, position + done);
                if (n < 0) {
                    int errno = errno(state);
                    if (errno == EINTR) {
                        continue; // Rule: a signal interrupted the call before it moved anything; try again.
                    }
                    throw failure(write ? "pwrite" : "pread", path, errno);
                }
                if (n == 0) {
                    // Rule: the image shrank under us (someone truncated it): the request fails, nothing is invented.
                    throw new IOException((write ? "pwrite" : "pread") + " of " + path + " at " + (position + done)
                            + " moved nothing: the file is shorter than the device");
                }
                done += n;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** fdatasync(2): what the device wrote is on stable storage. */
    void sync() throws IOException {
        call("fdatasync", FDATASYNC, -1, 0, 0);
    }

    /**
     * fallocate(2) with {@code mode} over {@code [position, position + length)}.
     *
     * @return false when the file system does not support that mode (EOPNOTSUPP)
     */
    boolean fallocate(int mode, long position, long length) throws IOException {
        return call("fallocate", FALLOCATE, mode, position, length);
    }

    private boolean call(String what, MethodHandle h, int mode, long position, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                int r = mode < 0 ? (int) h.invokeExact(state, fd) : (int) h.invokeExact(state, fd, mode, position, length);
                if (r == 0) {
                    return true;
                }
                int errno = errno(state);
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EOPNOTSUPP) {
                    return false;
                }
                throw failure(what, path, errno);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException failure(String call, Path path, int errno) {
        return new IOException(call + " " + path + ": " + Errno.describe(errno));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
        } catch (Throwable t) {
            // Rule: close(2) releases the fd even when it reports an error; nothing to retry.
        }
    }
}
