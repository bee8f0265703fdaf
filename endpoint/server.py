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

import logging
import sys

from flask import Flask

from graph.config import Settings

SERVERS = ("granian", "gunicorn")
LOOPS = ("uvloop", "asyncio", "rloop")  # rloop only where installed: ADR 0007 measured it

log = logging.getLogger(__name__)


def command(settings: Settings) -> list[str]:
    """The argv that serves `settings` (the app reads the same settings from KG_* variables)."""
    if settings.server not in SERVERS:
        raise ValueError(f"KG_SERVER={settings.server!r}: expected one of {SERVERS}")
    if settings.event_loop not in LOOPS:
        raise ValueError(f"KG_EVENT_LOOP={settings.event_loop!r}: expected one of {LOOPS}")
    if settings.server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--config", "python:endpoint.gunicorn_conf",
                "endpoint.server:create_wsgi()"]
    header_ms = max(1, min(60_000, round(settings.header_timeout * 1000)))  # granian's range
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
        "--host", settings.host, "--port", str(settings.port), "--workers", str(settings.workers),
        "--http", "1",  # the header timeout is HTTP/1's: no cleartext HTTP/2 to get around it
        "--http1-header-read-timeout", str(header_ms),
        "--loop", settings.event_loop,
        "--no-ws", "--log-level", "info",
        *(("--access-log",) if settings.access_log else ()),  # KG_ACCESS_LOG: off by default
        "--respawn-failed-workers", "--respawn-interval", "0.5",
        "--workers-kill-timeout", str(max(1, int(settings.query_timeout) + 5)),
        "endpoint.server:granian_worker",
    ]


def create_wsgi(settings: Settings | None = None) -> Flask:
    """The Flask app as a server runs it, with a query process started for the first query."""
    from endpoint import create_app

    app = create_app(settings or Settings.from_env())
    pool = app.extensions["kg"].pool
    if pool is not None and hasattr(pool, "warm"):
        pool.warm()
    return app


def granian_worker():
    """What each granian worker runs: the ASGI app, in a worker that restricts itself."""
    return create_asgi(worker=True)


def create_asgi(settings: Settings | None = None, worker: bool = False):
    """The app for granian's ASGI interface: body deadline, then a2wsgi's thread pool.

    In a server's worker (`worker`), the process installs the query processes' seccomp filter on
    itself (no Internet socket, no program run; endpoint/sparql/sandbox.py) and then answers
    provably cheap lookups in the event loop (endpoint/sparql/cheap.py). Never in a process that
    goes on doing anything else, such as a test run."""
    from a2wsgi import WSGIMiddleware
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    from endpoint.http.body_deadline import BodyDeadline
    from endpoint.http.caching import ConditionalCacheASGI
    from endpoint.sparql.cheap import CheapLookupASGI

    settings = settings or Settings.from_env()
    app = create_wsgi(settings)
    ctx = app.extensions["kg"]
    wsgi = WSGIMiddleware(app, workers=settings.threads)
    inner = BodyDeadline(wsgi, settings.body_timeout, settings.max_request_bytes)
    if worker and _may_restrict(settings, ctx):
        inner = CheapLookupASGI(inner, ctx, restrict=_restrict_worker)
    # 304s and cached repeats are answered in the event loop, before the thread pool
    served = ConditionalCacheASGI(inner, ctx)
    # X-Forwarded-Proto/-For are believed from a proxy on this machine only (gunicorn's default)
    return wrap_asgi_with_proxy_headers(served, trusted_hosts="127.0.0.1")


def _may_restrict(settings: Settings, ctx) -> bool:
    """Not over a remote backend (the worker must reach it), nor with KG_SANDBOX=off."""
    return not settings.backend_url and settings.sandbox and ctx.store is not None


def _restrict_worker() -> bool:
    """Put this worker under the offline seccomp filter; whether the cheap path may run here.

    Called at the worker's first request, once granian has set up its side of the worker (it
    makes sockets of its own while it starts). The fork server that starts query processes is
    started first, so the processes it forks (the federation pool's among them) get their own
    profile, not this one. A kernel without seccomp leaves the worker as it is, with every query
    in a query process, and says so."""
    from multiprocessing import forkserver

    from endpoint.sparql import sandbox

    forkserver.ensure_running()
    try:
        sandbox.install(sandbox.OFFLINE, landlock=False)
    except sandbox.SandboxUnavailable as err:
        log.warning("the worker runs without its seccomp filter, so every query goes to a "
                    "query process: %s", err)
        return False
    return True
