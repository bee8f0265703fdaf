"""How `kg serve` runs the app: granian, chosen by measurement (docs/decisions/0007-http-server.md),
or gunicorn gthread with KG_SERVER=gunicorn.

granian is a Rust HTTP server: connections, header parsing and keep-alive live in its event loop,
so a connection that sends half its headers costs a few bytes of memory, not a thread, and is
closed after KG_HEADER_TIMEOUT. The app runs behind granian's ASGI interface: the request body
is read in the event loop within KG_BODY_TIMEOUT (endpoint/http/body_deadline.py), and only a
complete request takes one of KG_THREADS threads of the worker, where a2wsgi's adapter calls the
Flask app.

Signals to the main process: TERM or INT stops the whole tree (workers finish their requests for
up to KG_QUERY_TIMEOUT + 5 s, then are killed; query processes exit with their worker); HUP
starts new workers and stops the old ones, e.g. after `kg build` (each new worker pins the new
build). A worker that dies is replaced.
"""

from __future__ import annotations

import sys

from flask import Flask

from graph.config import Settings

SERVERS = ("granian", "gunicorn")


def command(settings: Settings) -> list[str]:
    """The argv that serves `settings` (the app reads the same settings from KG_* variables)."""
    if settings.server not in SERVERS:
        raise ValueError(f"KG_SERVER={settings.server!r}: expected one of {SERVERS}")
    if settings.server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--config", "python:endpoint.gunicorn_conf",
                "endpoint.server:create_wsgi()"]
    header_ms = max(1, min(60_000, round(settings.header_timeout * 1000)))  # granian's range
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
        "--host", settings.host, "--port", str(settings.port), "--workers", str(settings.workers),
        "--http", "1",  # the header timeout is HTTP/1's: no cleartext HTTP/2 to get around it
        "--http1-header-read-timeout", str(header_ms),
        "--no-ws", "--log-level", "info",
        *(("--access-log",) if settings.access_log else ()),  # KG_ACCESS_LOG: off by default
        "--respawn-failed-workers", "--respawn-interval", "0.5",
        "--workers-kill-timeout", str(max(1, int(settings.query_timeout) + 5)),
        "endpoint.server:create_asgi",
    ]


def create_wsgi(settings: Settings | None = None) -> Flask:
    """The Flask app as a server runs it, with a query process started for the first query."""
    from endpoint import create_app

    app = create_app(settings or Settings.from_env())
    pool = app.extensions["kg"].pool
    if pool is not None and hasattr(pool, "warm"):
        pool.warm()
    return app


def create_asgi(settings: Settings | None = None):
    """The app for granian's ASGI interface: body deadline, then a2wsgi's thread pool."""
    from a2wsgi import WSGIMiddleware
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    from endpoint.http.body_deadline import BodyDeadline
    from endpoint.http.caching import ConditionalCacheASGI

    settings = settings or Settings.from_env()
    app = create_wsgi(settings)
    wsgi = WSGIMiddleware(app, workers=settings.threads)
    # 304s and cached repeats are answered in the event loop, before the thread pool
    served = ConditionalCacheASGI(
        BodyDeadline(wsgi, settings.body_timeout, settings.max_request_bytes),
        app.extensions["kg"])
    # X-Forwarded-Proto/-For are believed from a proxy on this machine only (gunicorn's default)
    return wrap_asgi_with_proxy_headers(served, trusted_hosts="127.0.0.1")
