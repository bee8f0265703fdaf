"""gunicorn settings, for `KG_SERVER=gunicorn kg serve` (gunicorn -c python:endpoint.gunicorn_conf
'endpoint.server:create_wsgi()'). granian is the default server (docs/decisions/0007): gthread
reads a request's headers and body in one of its threads, so a few slow clients hold them all;
behind gunicorn, put a buffering reverse proxy (docs/deployment.md).

Everything comes from `Settings.from_env()` (KG_* variables), so `kg serve`, `make serve` and a
hand-written systemd unit run the same configuration:

- `KG_HOST`/`KG_PORT` → bind; `KG_WORKERS` worker processes, each with `KG_THREADS` threads
  (gthread) and its query processes (endpoint/sparql/lanes.py);
- the query time limit (`KG_QUERY_TIMEOUT`) is enforced by killing the query process, not the
  gunicorn worker: gunicorn's own `timeout` is only a backstop for a wedged worker, set well
  above the query limit so it never fires first;
- the app is loaded in each worker (no preload): every worker opens the store read-only itself,
  and a `kill -HUP` of the master after `kg build` starts workers on the new build.
"""

from __future__ import annotations

from graph.config import Settings

_settings = Settings.from_env()

# KG_WORKER_CLASS: "gthread" (default, see docs/decisions/0005) or "sync" (one request at a time
# per worker: gunicorn would switch a sync worker with threads > 1 to gthread, so threads is 1)
WORKER_CLASSES = ("gthread", "sync")
worker_class = _settings.worker_class.strip() or "gthread"
if worker_class not in WORKER_CLASSES:
    raise ValueError(f"KG_WORKER_CLASS={worker_class!r}: expected one of {WORKER_CLASSES}")

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
threads = _settings.threads if worker_class == "gthread" else 1
timeout = int(_settings.query_timeout) + 30
graceful_timeout = int(_settings.query_timeout) + 5
keepalive = 5
preload_app = False
# gunicorn's longest bounded request line; longer queries must be POSTed (the app caps them too)
limit_request_line = 8190
proc_name = "khojaly-kg"
# gunicorn 27's control socket has one default path per user: two servers (tests, benchmarks)
# would fight over it, and we do not use it (kill -HUP reloads, kill -TERM stops)
control_socket_disable = True
accesslog = "-" if _settings.access_log else None  # KG_ACCESS_LOG: off by default
errorlog = "-"

