#!/usr/bin/env python3
"""A tiny HTTP/1.1 server for tests/integration/68-load-hostile.sh, on 127.0.0.1 only.

Usage: hostile-http-server.py MODE PORT_FILE STATS_FILE [LIFETIME_S]

Listens on 127.0.0.1 at a port the kernel picks and writes that port to PORT_FILE. Every
request (the head up to its empty line) gets an answer that depends on MODE:

  endless-ext   "HTTP/1.1 200 OK", Transfer-Encoding: chunked, then the chunk-size line "1;"
                followed by 'a' bytes that never reach a line end, up to SEND_MAX bytes;
  valid         the TechEmpower answer {"message":"Hello, World!"} in chunks (keep-alive).

When a connection ends, one line "sent N" goes to STATS_FILE: the bytes the kernel took from
the server on that connection before the client closed it (or SEND_MAX). The server stops by
itself after LIFETIME_S seconds (default 60) and bounds every read and write by a timeout.
"""

import os
import signal
import socket
import socketserver
import sys
import threading
import time

SEND_MAX = 64 * 1024 * 1024
BLOCK = b"a" * (64 * 1024)
HEAD_MAX = 64 * 1024
IO_TIMEOUT_S = 5
SNDBUF = 128 * 1024

VALID_BODY = b'{"message":"Hello, World!"}'


def valid_response():
    chunks = VALID_BODY[:5], VALID_BODY[5:]
    body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\nX-T: 1\r\n\r\n"
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Server: hostile\r\n"
        b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
        b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body
    )


class Handler(socketserver.BaseRequestHandler):
    def read_head(self, pending):
        """Returns the bytes after one request head, or None when the client closed."""
        while b"\r\n\r\n" not in pending:
            if len(pending) > HEAD_MAX:
                return None
            data = self.request.recv(4096)
            if not data:
                return None
            pending += data
        return pending.split(b"\r\n\r\n", 1)[1]

    def handle(self):
        sock = self.request
        sock.settimeout(IO_TIMEOUT_S)
        # A fixed send buffer (no autotuning): what the kernel takes before the client closes
        # is then about the client's receive buffer plus this, not megabytes of buffering.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
        sent = 0
        try:
            pending = b""
            # Bounded: each round answers one request; a client sends one at a time.
            for _ in range(1000000):
                pending = self.read_head(pending)
                if pending is None:
                    break
                if self.server.mode == "valid":
                    resp = valid_response()
                    sock.sendall(resp)
                    sent += len(resp)
                    continue
                head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"
                sock.sendall(head)
                sent += len(head)
                while sent < SEND_MAX:
                    sent += sock.send(BLOCK)
                break
        except OSError:
            pass  # the client closed (reset, broken pipe) or the timeout passed
        with self.server.lock:
            with open(self.server.stats, "a") as f:
                f.write("sent %d\n" % sent)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("endless-ext", "valid"):
        sys.exit(__doc__)
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 60.0
    # The server ends itself whatever happens to the test that started it.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
    signal.alarm(max(1, int(lifetime)))
    srv = Server(("127.0.0.1", 0), Handler)
    srv.mode = sys.argv[1]
    srv.stats = sys.argv[3]
    srv.lock = threading.Lock()
    open(srv.stats, "w").close()
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[2])
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    time.sleep(lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
