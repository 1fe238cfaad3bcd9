"""Flask on gunicorn for the TechEmpower JSON test.

GET /json returns {"message": "Hello, World!"}, serialized on every request by jsonify (the
standard library's json). gunicorn adds the Server and Date headers. The workers are
gunicorn's gthread workers with one thread each: unlike the default sync worker they keep
HTTP/1.1 connections alive.

Run: python3.13 app.py [--addr HOST:PORT] [--workers N] [--threads N]   ($ADDR, $WORKERS,
$THREADS; defaults 127.0.0.1:8080, 1 worker process, 1 thread).
"""
import argparse
import os
import sys

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/json")
def json_endpoint():
    return jsonify(message="Hello, World!")


def settings():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", default=os.environ.get("ADDR", "127.0.0.1:8080"),
                   help="listen address HOST:PORT ($ADDR)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")),
                   help="worker processes ($WORKERS)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "1")),
                   help="threads per worker ($THREADS)")
    a = p.parse_args()
    if a.workers < 1 or a.threads < 1:
        p.error("--workers and --threads must be at least 1")
    return a.addr, a.workers, a.threads


def main():
    import gunicorn
    from gunicorn.app.base import BaseApplication

    addr, workers, threads = settings()

    class Server(BaseApplication):
        def load_config(self):
            for k, v in {
                "bind": [addr],
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "keepalive": 75,
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(k, v)

        def load(self):
            return app

    print(f"flask on gunicorn {gunicorn.__version__}: {addr}, {workers} worker(s) x "
          f"{threads} thread(s)", file=sys.stderr, flush=True)
    Server().run()


if __name__ == "__main__":
    main()
