"""Which HTTP server runs the endpoint: candidates measured side by side on this machine.

    python -m bench.http_servers [--seconds 5] [--slow 256] [--out FILE]

Each candidate serves the real app (`endpoint:create_app()`, every guard on) over the built store,
alone on 127.0.0.1 while measured (two cores: never two servers at once):

- gunicorn gthread (endpoint/gunicorn_conf.py, the configuration before the switch);
- granian through `kg serve` (ASGI interface, endpoint/server.py), and granian's own WSGI
  interface;
- waitress (one process: it has no worker processes), when importable (BENCH_EXTRA_PATH may
  name a directory it was `pip install --target`-ed into; it is never a project dependency).

Measured: trivial queries (`ASK {}` made unique per request, so no cache answers it) in req/s and
p99 at c=8 and c=32 (wrk when installed), then the same trivial query, one at a time, while
`--slow` connections hold the server (half send partial headers, half a body shorter than its
Content-Length), and how long until the server closes those connections. The numbers go to
docs/decisions/0007-http-server.md by hand; this prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bench import loadgen
from bench.servers import Server, free_port
from bench.stress import kg_command, server_env, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = "/sparql?query=" + quote("ASK {}")


@dataclass
class Slowness:
    """Trivial-query latency while slow connections are held, and when they were closed."""

    trivial_ms: list[float]
    failed: int
    closed: int  # slow connections the server closed within the wait
    closed_after_s: float  # when the last of those was closed (seconds after it was opened)


def open_slow(port: int, count: int) -> list[socket.socket]:
    """`count` connections: even ones stop inside the headers, odd ones inside the body."""
    socks = []
    for n in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2 == 0:
            s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: ")
        else:
            s.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 100\r\n\r\nquery=ASK")
        socks.append(s)
    return socks


def trivial_once(port: int, timeout: float = 30) -> float | None:
    """One trivial query on a fresh connection: its latency in ms, None when it failed."""
    t0 = time.perf_counter()
    status, _ = _get(port, TRIVIAL + quote(f"\n#{time.perf_counter_ns()}"), timeout)
    return (time.perf_counter() - t0) * 1e3 if status == 200 else None


def _get(port: int, target: str, timeout: float) -> tuple[int, bytes]:
    from bench.stress import fetch

    return fetch(port, "GET", target, {"Accept": "application/sparql-results+json"},
                 timeout=timeout)


def wait_closed(socks: list[socket.socket], opened: float, limit: float) -> tuple[int, float]:
    """Poll the slow connections until the server closed them all or `limit` passed."""
    import selectors

    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    closed, last = 0, 0.0
    deadline = opened + limit
    while closed < len(socks) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except (ConnectionError, BlockingIOError):
                data = b""
            if data:  # a response (a 408 or 400) before the close: read on
                continue
            sel.unregister(sock)
            closed += 1
            last = time.monotonic() - opened
    for s in socks:
        s.close()
    return closed, last


def measure_slowness(port: int, count: int, probes: int, wait: float) -> Slowness:
    socks = open_slow(port, count)
    opened = time.monotonic()
    time.sleep(0.5)  # let the server take them all in before the first probe
    times, failed = [], 0
    for _ in range(probes):
        ms = trivial_once(port, timeout=10)
        if ms is None:
            failed += 1
        else:
            times.append(ms)
    closed, after = wait_closed(socks, opened, wait)
    return Slowness(times, failed, closed, after)


# -- the candidates ------------------------------------------------------------------------------

def _spawn(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    t0 = time.perf_counter()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    server = Server(cmd[0], proc, port, 0.0)
    try:
        wait_until_answers(proc, port, timeout=90)
    except RuntimeError:
        server.stop()
        raise
    server.started_s = time.perf_counter() - t0
    return server


def start(name: str, store: Path, log: Path, workers: int, threads: int) -> Server | None:
    port = free_port()
    env = server_env(store, host="127.0.0.1", port=port, workers=workers, threads=threads)
    if name == "gunicorn gthread":
        cmd = [sys.executable, "-m", "gunicorn", "--config", "python:endpoint.gunicorn_conf",
               "endpoint.server:create_wsgi()"]
    elif name == "granian asgi":  # what `kg serve` runs
        cmd = kg_command() + ["serve"]
    elif name == "granian wsgi":  # the same, with granian's own WSGI interface
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--blocking-threads", str(threads), "--http", "1",
               "--http1-header-read-timeout", "10000", "--no-ws", "--access-log",
               "endpoint.server:create_wsgi"]
    elif name == "waitress":
        extra = os.environ.get("BENCH_EXTRA_PATH", "")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, str(ROOT)) if p)
        probe = subprocess.run([sys.executable, "-c", "import waitress"], env=env,
                               capture_output=True)
        if probe.returncode:
            return None
        cmd = [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={port}",
               f"--threads={threads}", "--channel-timeout=10", "--connection-limit=1000",
               "--call", "endpoint.server:create_wsgi"]
    else:
        raise ValueError(name)
    return _spawn(cmd, env, port, log)


# name:request threads per worker; gunicorn twice: as configured before, and with granian's count
CANDIDATES = ("gunicorn gthread:4", "gunicorn gthread:256", "granian wsgi:256", "granian asgi:32",
              "waitress:32")


def main(argv: list[str] | None = None) -> int:
    from graph.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--slow", type=int, default=256)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--close-wait", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="comma-separated candidate names")
    args = parser.parse_args(argv)
    store = Settings.from_env().store_path
    logs = ROOT / "var" / "http-servers"
    logs.mkdir(parents=True, exist_ok=True)
    names = args.only.split(",") if args.only else CANDIDATES
    rows = ["| server | c=8 req/s | c=8 p99 ms | c=32 req/s | c=32 p99 ms | errors | "
            f"trivial beside {args.slow} slow: max ms | failed | slow closed | closed after s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for candidate in names:
        name, _, threads = candidate.partition(":")
        server = start(name, store, logs / f"{name.replace(' ', '-')}.log", args.workers,
                       int(threads or 4))
        if server is None:
            print(f"{name}: not installed, skipped", file=sys.stderr)
            continue
        try:
            url = server.url + TRIVIAL
            loads = [loadgen.run(url, c, args.seconds, unique=True) for c in (8, 32)]
            slow = measure_slowness(server.port, args.slow, args.probes, args.close_wait)
        finally:
            server.stop()
        worst = max(slow.trivial_ms) if slow.trivial_ms else float("nan")
        rows.append(f"| {name}, {threads or 4} threads | "
                    f"{loads[0].rps:.0f} | {loads[0].p99_ms:.1f} | "
                    f"{loads[1].rps:.0f} | {loads[1].p99_ms:.1f} | "
                    f"{loads[0].errors + loads[1].errors} | {worst:.0f} | {slow.failed} | "
                    f"{slow.closed}/{args.slow} | {slow.closed_after_s:.1f} |")
        print(rows[-1], file=sys.stderr)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
