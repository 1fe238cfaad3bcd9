"""Django on gunicorn as a single-file project, for the TechEmpower JSON test.

GET /json returns {"message": "Hello, World!"}, serialized on every request by JsonResponse
(the standard library's json). No apps, no middleware, no database. gunicorn adds the Server
and Date headers; its workers are gthread workers with one thread each, which keep HTTP/1.1
connections alive (the default sync worker closes every connection).

Run: python3.13 app.py [--addr HOST:PORT] [--workers N] [--threads N]   ($ADDR, $WORKERS,
$THREADS; defaults 127.0.0.1:8080, 1 worker process, 1 thread).
"""
import argparse
import os
import sys

import django
from django.conf import settings as django_settings

django_settings.configure(
    DEBUG=False,
    # Only ever reached over the sandbox's loopback interface.
    ALLOWED_HOSTS=["*"],
    # A fixed key: nothing is signed, Django merely insists on one.
    SECRET_KEY="json-benchmark-nothing-is-signed",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def json_view(request):
    response = JsonResponse({"message": "Hello, World!"})
    # Django's WSGI handler sends no Content-Length (CommonMiddleware would add it): without
    # one gunicorn falls back to chunked encoding.
    response["Content-Length"] = str(len(response.content))
    return response


urlpatterns = [path("json", json_view)]

application = get_wsgi_application()


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
            return application

    print(f"django {django.get_version()} on gunicorn {gunicorn.__version__}: {addr}, "
          f"{workers} worker(s) x {threads} thread(s)", file=sys.stderr, flush=True)
    Server().run()


if __name__ == "__main__":
    main()
