"""Plain Starlette on uvicorn (uvloop event loop, httptools parser) for the TechEmpower JSON
test.

GET /json returns {"message": "Hello, World!"}, serialized on every request by Starlette's
JSONResponse (the standard library's json). uvicorn adds the Server and Date headers.

Run: python3.13 app.py [--addr HOST:PORT] [--workers N]   ($ADDR, $WORKERS; defaults
127.0.0.1:8080 and 1 worker process).
"""
import argparse
import os
import sys

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def json_endpoint(request):
    return JSONResponse({"message": "Hello, World!"})


app = Starlette(routes=[Route("/json", json_endpoint, methods=["GET"])])


def settings():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", default=os.environ.get("ADDR", "127.0.0.1:8080"),
                   help="listen address HOST:PORT ($ADDR)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")),
                   help="worker processes ($WORKERS)")
    a = p.parse_args()
    host, sep, port = a.addr.rpartition(":")
    if not sep or not port.isdigit() or a.workers < 1:
        p.error("--addr must be HOST:PORT and --workers at least 1")
    return host.strip("[]"), int(port), a.workers


def main():
    import uvicorn

    host, port, workers = settings()
    print(f"starlette on uvicorn {uvicorn.__version__}: {host}:{port}, {workers} worker(s)",
          file=sys.stderr, flush=True)
    uvicorn.run("app:app", app_dir=os.path.dirname(os.path.abspath(__file__)),
                host=host, port=port, workers=workers, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
