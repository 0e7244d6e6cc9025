#!/usr/bin/env python3
"""A vfio-user client for the non-root socket tests, written from the spec's header layout alone.

Run under another uid (setpriv). Connects to the socket argv[1], sends VERSION with the capabilities QEMU 11
proposes, and reports one outcome as a line on stdout (followed by the uid and gid it ran as) and its exit
status:
  0 SERVED         the server answered VERSION without the Error flag
  3 EACCES         connect(2) was refused by the socket file's permissions
  4 CLOSED         the server closed the connection without answering
  5 ERROR errno=N  the server answered with an error reply
  1 FAIL reason    anything else
"""
import errno
import os
import socket
import struct
import sys

HDR = struct.Struct("<HHIII")  # msg_id u16, command u16, size u32, flags u32, error u32
VERSION = 1
REPLY = 0x1
ERROR = 0x20
CAPS = (b'{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,'
        b'"max_dma_maps":65535,"write_multiple":true}}\0')


def report(code, line):
    print("%s uid=%d gid=%d" % (line, os.geteuid(), os.getegid()), flush=True)
    sys.exit(code)


def recv_exact(sock, n):
    """Up to n bytes; fewer only if the server closed the connection."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(sys.argv[1])
    except PermissionError:
        report(3, "EACCES")
    except OSError as e:
        report(1, "FAIL connect: %s" % errno.errorcode.get(e.errno, e.errno))

    payload = struct.pack("<HH", 0, 0) + CAPS  # major 0, minor 0, JSON with its NUL
    try:
        sock.sendall(HDR.pack(1, VERSION, HDR.size + len(payload), 0, 0) + payload)
        hdr = recv_exact(sock, HDR.size)
    except (BrokenPipeError, ConnectionResetError):
        # A server that refuses the peer closes at once, possibly before or while the request is written.
        report(4, "CLOSED")
    except socket.timeout:
        report(1, "FAIL neither an answer nor a close within 10 s")
    if not hdr:
        report(4, "CLOSED")
    if len(hdr) < HDR.size:
        report(1, "FAIL header cut short after %d bytes" % len(hdr))
    msg_id, cmd, size, flags, err = HDR.unpack(hdr)
    if msg_id != 1 or cmd != VERSION or flags & 0xF != REPLY:
        report(1, "FAIL not the VERSION reply: %r" % ((msg_id, cmd, size, flags, err),))
    if flags & ERROR:
        report(5, "ERROR errno=%d" % err)
    body = recv_exact(sock, size - HDR.size)
    if len(body) != size - HDR.size or len(body) < 5 or not body.endswith(b"\0"):
        report(1, "FAIL malformed VERSION reply body %r" % body[:64])
    report(0, "SERVED")


if __name__ == "__main__":
    main()
