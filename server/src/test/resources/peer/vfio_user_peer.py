#!/usr/bin/env python3
"""A vfio-user peer that is not our Java code, for the transport interop test.

Connects to the socket given as argv[1] and, speaking only the spec header layout:
  1. sends VERSION (no fds), then back to back: cmd 8 with two eventfds, cmd 13 with none, cmd 8 with one;
  2. expects each reply to echo its msg_id and the Java side to have added (msg_id * 16 + index + 1) to each
     eventfd it received, which proves every fd was attached to its own message;
  3. serves one command the Java side sends with an eventfd attached (it must carry exactly one fd): adds
     0x1234 to that eventfd and replies with the payload reversed; a second Java command must carry no fds.
Exits 0 on success; prints the reason and exits 1 otherwise.
"""
import os
import select
import socket
import struct
import sys

HDR = struct.Struct("<HHIII")
REPLY = 0x1


def fail(msg):
    print("peer: FAIL: " + msg, flush=True)
    sys.exit(1)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            fail("end of stream after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(sock):
    # Read exactly the header with the call that picks up the fds, then exactly the payload.
    data, fds, flags, _ = socket.recv_fds(sock, HDR.size, 253)
    if not data:
        fail("end of stream instead of a message")
    if flags & socket.MSG_CTRUNC:
        fail("control data truncated")
    data += recv_exact(sock, HDR.size - len(data))
    msg_id, cmd, size, mflags, err = HDR.unpack(data)
    if size < HDR.size:
        fail("bad size %d" % size)
    payload = recv_exact(sock, size - HDR.size)
    return msg_id, cmd, mflags, err, payload, fds


def send_msg(sock, msg_id, cmd, flags, payload, fds=()):
    data = HDR.pack(msg_id, cmd, HDR.size + len(payload), flags, 0) + payload
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
    else:
        sent = sock.send(data)
    if sent != len(data):
        sock.sendall(data[sent:])


def eventfd_value(fd):
    ready, _, _ = select.select([fd], [], [], 5)
    if not ready:
        fail("eventfd %d was never signalled" % fd)
    return os.eventfd_read(fd)


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(sys.argv[1])

    caps = b'{"capabilities":{"max_msg_fds":16}}\0'
    send_msg(sock, 1, 1, 0, struct.pack("<HH", 0, 0) + caps)
    e2 = [os.eventfd(0, os.EFD_CLOEXEC), os.eventfd(0, os.EFD_CLOEXEC)]
    e4 = [os.eventfd(0, os.EFD_CLOEXEC)]
    send_msg(sock, 2, 8, 0, b"\x02" * 8, e2)
    send_msg(sock, 3, 13, 0, b"")
    send_msg(sock, 4, 8, 0, b"\x04" * 8, e4)

    replies = {}
    served = 0
    while len(replies) < 4 or served < 2:
        msg_id, cmd, flags, err, payload, fds = recv_msg(sock)
        if flags & 0xF == REPLY:
            if flags & 0x20:
                fail("error reply %d to msg %d" % (err, msg_id))
            if fds:
                fail("unexpected fds on a reply")
            replies[msg_id] = (cmd, payload)
            continue
        # A command from the Java side.
        if served == 0:
            if len(fds) != 1:
                fail("first Java command carried %d fds, expected 1" % len(fds))
            os.eventfd_write(fds[0], 0x1234)
            os.close(fds[0])
        elif fds:
            fail("second Java command carried %d fds, expected 0" % len(fds))
        send_msg(sock, msg_id, cmd, REPLY, payload[::-1])
        served += 1

    for msg_id, cmd in ((1, 1), (2, 8), (3, 13), (4, 8)):
        if replies.get(msg_id, (None,))[0] != cmd:
            fail("reply to msg %d missing or for the wrong command: %r" % (msg_id, replies.get(msg_id)))
    major, minor = struct.unpack_from("<HH", replies[1][1])
    if (major, minor) != (0, 0) or not replies[1][1].endswith(b"\0"):
        fail("bad VERSION reply %r" % replies[1][1])
    for msg_id, efds in ((2, e2), (4, e4)):
        for i, fd in enumerate(efds):
            got = eventfd_value(fd)
            if got != msg_id * 16 + i + 1:
                fail("eventfd %d of msg %d read %d, expected %d" % (i, msg_id, got, msg_id * 16 + i + 1))
    sock.close()
    print("peer: OK", flush=True)


if __name__ == "__main__":
    main()
