#!/usr/bin/python3
# A stand-in for systemd's notify socket: binds a unix datagram socket at
# argv[1] (a path, or @name for an abstract socket) and prints each datagram
# it receives as one JSON line {"t": <unix seconds>, "pid": <sender>, "msg": "..."}.
# It asks for the sender's credentials (SO_PASSCRED), as systemd does.
import json, os, socket, struct, sys, time

addr = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind('\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({"t": time.time(), "pid": os.getpid(), "msg": "LISTENING"}), flush=True)
while True:
    data, anc, _flags, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', payload[:12])[0]
    print(json.dumps({"t": time.time(), "pid": pid, "msg": data.decode('utf8', 'replace')}), flush=True)
