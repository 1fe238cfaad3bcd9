#!/usr/bin/env python3
"""A pre-forking HTTP/1.1 server for tests/integration/72-workers-ready.sh, run in a sandbox (its
own network namespace): workers that start accepting at different times, as gunicorn's do when
each imports its application after the fork.

Usage: prefork-http-server.py PORT DELAY_S... [--lifetime S]

Binds 127.0.0.1:PORT, prints "listening" on stdout, then forks one worker per DELAY_S. Worker i
sleeps DELAY_S[i] seconds, then waits for connections on the shared socket in an epoll set (as
asyncio and gunicorn's gthread workers do) and prints "worker i accepting" on stdout; it
answers every GET with the TechEmpower answer {"message":"Hello, World!"}, keep-alive. Everything
stops after the lifetime (default 60 s); at most 256 connections per worker are held.
"""

import os
import selectors
import socket
import sys
import time

BODY = b'{"message":"Hello, World!"}'
ANSWER = (b"HTTP/1.1 200 OK\r\nServer: prefork-test\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
MAX_CONNS = 256


def serve(index, ls, delay, deadline):
    time.sleep(delay)
    sel = selectors.EpollSelector()
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    print("worker %d accepting" % index, flush=True)
    conns = {}
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                if len(conns) >= MAX_CONNS:
                    c.close()
                    continue
                c.setblocking(False)
                conns[c] = b""
                sel.register(c, selectors.EVENT_READ)
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(c)
                del conns[c]
                c.close()
                continue
            buf = conns[c] + data
            while b"\r\n\r\n" in buf:
                _, buf = buf.split(b"\r\n\r\n", 1)
                c.sendall(ANSWER)
            conns[c] = buf
    os._exit(0)


def main():
    args = sys.argv[1:]
    lifetime = 60.0
    if "--lifetime" in args:
        i = args.index("--lifetime")
        lifetime = float(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        sys.exit(__doc__)
    port, delays = int(args[0]), [float(d) for d in args[1:]]
    deadline = time.monotonic() + lifetime
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1024)
    print("listening", flush=True)
    for i, d in enumerate(delays, 1):
        if os.fork() == 0:
            serve(i, ls, d, deadline)
    # The parent never accepts: like gunicorn's arbiter it only waits for its workers.
    for _ in delays:
        os.wait()


if __name__ == "__main__":
    main()
