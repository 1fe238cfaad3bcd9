#!/usr/bin/env python3
"""An HTTP/1.1 server for tests/integration/69-status.sh, run in a sandbox (its own network
namespace): every figure's status against a server that misbehaves in one known way.

Usage: status-http-server.py MODE PORT [LIFETIME_S]

Listens on 127.0.0.1:PORT and prints "listening" on stdout once it does. MODE:

  ok      the TechEmpower answer {"message":"Hello, World!"} (keep-alive), at once
  503     the same headers with status 503 Service Unavailable
  slow    the valid answer after sleeping 10 ms (one thread per connection)
  stall   accepts every connection and never reads nor answers

Stops by itself after LIFETIME_S seconds (default 60); at most 4096 connections are held.
"""

import http.server
import os
import socket
import sys
import threading
import time

BODY = b'{"message":"Hello, World!"}'
MAX_HELD = 4096


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "status-test"
    sys_version = ""
    timeout = 30  # a read that waits longer ends the connection
    # The head and the body go out in two writes: without TCP_NODELAY the body would wait
    # for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def do_GET(self):
        mode = self.server.mode
        if mode == "slow":
            time.sleep(0.010)
        self.send_response(503 if mode == "503" else 200)  # adds Server and Date
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def stall(port, deadline):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1024)
    ls.settimeout(0.1)
    print("listening", flush=True)
    held = []
    # Bounded by the deadline, and by the connections it holds.
    while time.monotonic() < deadline:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        if len(held) < MAX_HELD:
            held.append(conn)
        else:
            conn.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    if mode not in ("ok", "503", "slow", "stall"):
        sys.exit("unknown mode %r" % mode)
    deadline = time.monotonic() + lifetime
    if mode == "stall":
        stall(port, deadline)
        return
    http.server.ThreadingHTTPServer.request_queue_size = 128  # every connection at once
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.mode = mode
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("listening", flush=True)
    time.sleep(max(0.0, deadline - time.monotonic()))
    os._exit(0)


if __name__ == "__main__":
    main()
