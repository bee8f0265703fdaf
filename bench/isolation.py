"""Light work beside heavy work and beside slow clients: what `make stress` reports on top of the
load test (bench/stress.py), against its targets.

    python -m bench.isolation [--heavy 8] [--light 200] [--slow 256] [--out FILE]

1. Heavy beside light: `--heavy` clients each send, again and again, a query that runs until the
   time limit stops it, while 8 clients send `--light` trivial queries (`ASK {}`, each made
   unique so no cache answers it). Target: every trivial query answers, p99 < 250 ms.
2. Slow clients beside light: `--slow` connections that stop half-way through their headers or
   send a body shorter than its Content-Length; meanwhile trivial queries one at a time. Target:
   none delayed beyond 1 s, and the slow connections closed by the server after the documented
   timeouts (KG_HEADER_TIMEOUT, KG_BODY_TIMEOUT).

Everything runs against `kg serve` on 127.0.0.1 (a free port), with bounded counts and
deadlines; tests/test_lanes.py runs both with small numbers inside `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import selectors
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.stress import JSON, RESULTS, ROOT, fetch, percentiles, serve

TRIVIAL = "ASK {}"
# runs until the time limit stops it whatever the store (VALUES needs no data), never streams
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(100))} }}" for i in range(5)) + " }")


def ask(port: int, query: str, timeout: float) -> tuple[int, bytes, float]:
    """One GET of `query` on a fresh connection: status (0: no answer), body, seconds."""
    t0 = time.perf_counter()
    status, body = fetch(port, "GET", "/sparql?" + urlencode({"query": query}),
                         {"Accept": JSON}, timeout=timeout)
    return status, body, time.perf_counter() - t0


def unique(query: str, n: int) -> str:
    return f"{query}\n# {n} {time.perf_counter_ns()}"


# -- 1. heavy beside light ------------------------------------------------------------------------

@dataclass
class HeavyRun:
    light: list[tuple[int, bytes, float]] = field(default_factory=list)
    heavy: list[tuple[int, bytes, float]] = field(default_factory=list)

    @property
    def light_ok(self) -> int:
        return sum(1 for s, b, _ in self.light if s == 200 and b"true" in b)

    def light_ms(self) -> list[float]:
        return [t * 1e3 for _, _, t in self.light]


def heavy_beside_light(port: int, heavy: int, light: int, light_clients: int = 8,
                       timeout: float = 60, settle: float = 1.0) -> HeavyRun:
    """`heavy` clients keep heavy queries in flight while `light_clients` send `light` trivial
    queries in all; the heavy clients stop once the light ones are done."""
    run = HeavyRun()
    lock = threading.Lock()
    done = threading.Event()
    counter = iter(range(light))

    def heavy_client() -> None:
        while not done.is_set():
            outcome = ask(port, HEAVY, timeout)
            with lock:
                run.heavy.append(outcome)

    def light_client() -> None:
        for n in iter(lambda: next(counter, None), None):
            outcome = ask(port, unique(TRIVIAL, n), timeout)
            with lock:
                run.light.append(outcome)

    heavies = [threading.Thread(target=heavy_client, daemon=True) for _ in range(heavy)]
    for t in heavies:
        t.start()
    deadline = time.monotonic() + settle  # the heavy queries are past their fast budget by now
    while time.monotonic() < deadline:
        time.sleep(0.05)
    lights = [threading.Thread(target=light_client, daemon=True) for _ in range(light_clients)]
    for t in lights:
        t.start()
    for t in lights:
        t.join(timeout * 2)
    done.set()
    for t in heavies:
        t.join(timeout * 2)
    return run


# -- 2. slow clients beside light -----------------------------------------------------------------

PARTIAL_HEADERS = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: "
SHORT_BODY = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: 100\r\n\r\nquery=ASK")


@dataclass
class SlowRun:
    light: list[tuple[int, float]]  # status, seconds
    closed: dict[str, list[float]]  # kind -> seconds from opening to the server's close
    answers: dict[str, list[bytes]]  # kind -> what the server sent before closing
    count: int


def open_slow(port: int, count: int) -> list[tuple[str, socket.socket, float]]:
    """`count` connections: even ones stop inside the headers, odd ones inside the body."""
    out = []
    for n in range(count):
        kind, data = ("headers", PARTIAL_HEADERS) if n % 2 == 0 else ("body", SHORT_BODY)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(data)
        out.append((kind, s, time.monotonic()))
    return out


def wait_closed(conns, limit: float) -> tuple[dict[str, list[float]], dict[str, list[bytes]]]:
    """Poll the slow connections until the server closed them all or `limit` s passed."""
    sel = selectors.DefaultSelector()
    for kind, s, opened in conns:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (kind, opened, bytearray()))
    closed: dict[str, list[float]] = {"headers": [], "body": []}
    answers: dict[str, list[bytes]] = {"headers": [], "body": []}
    deadline = time.monotonic() + limit
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            kind, opened, got = key.data
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if data:  # an answer (408, 400) before the close: keep it, read on
                got += data
                continue
            sel.unregister(key.fileobj)
            closed[kind].append(time.monotonic() - opened)
            answers[kind].append(bytes(got))
    for _, s, _ in conns:
        s.close()
    return closed, answers


def slow_beside_light(port: int, count: int, probes: int, close_wait: float,
                      timeout: float = 30) -> SlowRun:
    conns = open_slow(port, count)
    light = []
    for n in range(probes):
        status, _, seconds = ask(port, unique(TRIVIAL, n), timeout)
        light.append((status, seconds))
    closed, answers = wait_closed(conns, close_wait)
    return SlowRun(light, closed, answers, count)


# -- the report -----------------------------------------------------------------------------------

def render(heavy: HeavyRun, slow: SlowRun, args, settings: dict) -> str:
    ms = heavy.light_ms()
    p50, p95, p99 = percentiles(ms and [m / 1e3 for m in ms] or [0.0])
    heavy_codes: dict[int, int] = {}
    for status, _, _ in heavy.heavy:
        heavy_codes[status] = heavy_codes.get(status, 0) + 1
    worst_slow = max((s for _, s in slow.light), default=0.0)
    slow_ok = sum(1 for st, _ in slow.light if st == 200)
    verdict = lambda ok: "**met**" if ok else "**NOT met**"  # noqa: E731
    light_met = heavy.light_ok == len(heavy.light) == args.light and p99 < 250
    slow_met = slow_ok == len(slow.light) and worst_slow <= 1.0
    closed_all = all(len(v) == slow.count // 2 + (k == "headers" and slow.count % 2)
                     for k, v in slow.closed.items())
    return "\n".join([
        f"# Isolation run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"`kg serve` on 127.0.0.1 with {settings} (python -m bench.isolation).",
        "",
        f"## {args.heavy} heavy queries beside {args.light} trivial ones from 8 clients",
        "",
        f"- trivial answered 200: {heavy.light_ok}/{len(heavy.light)}; p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, **p99 {p99:.1f} ms**, max {max(ms, default=0):.1f} ms "
        f"(target: all answer, p99 < 250 ms: {verdict(light_met)})",
        f"- heavy answers while they ran: {dict(sorted(heavy_codes.items()))} (503: stopped at "
        "the limit, or the heavy lane full)",
        "",
        f"## {slow.count} slow connections beside trivial queries",
        "",
        f"- trivial answered 200: {slow_ok}/{len(slow.light)}; slowest {worst_slow * 1e3:.0f} ms "
        f"(target: none beyond 1 s: {verdict(slow_met)})",
        f"- partial headers closed by the server: {len(slow.closed['headers'])}, after "
        f"{_span(slow.closed['headers'])} s; short bodies closed: {len(slow.closed['body'])}, "
        f"after {_span(slow.closed['body'])} s; with a 408 first: "
        f"{sum(a.startswith(b'HTTP/1.1 408') for a in slow.answers['body'])} "
        f"(target: all closed after the documented timeouts: {verdict(closed_all)})",
        "",
    ])


def _span(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}" if values else "-"


def main(argv: list[str] | None = None) -> int:
    from graph.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heavy", type=int, default=8)
    parser.add_argument("--light", type=int, default=200)
    parser.add_argument("--slow", type=int, default=256)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--query-timeout", type=float, default=10.0)
    parser.add_argument("--client-timeout", type=float, default=10.0,
                        help="header and body timeout of the server (KG_HEADER/BODY_TIMEOUT)")
    parser.add_argument("--out", type=Path, help="report file (default: bench/results/...)")
    args = parser.parse_args(argv)
    store = Settings.from_env().store_path
    settings = {"query_timeout": args.query_timeout, "header_timeout": args.client_timeout,
                "body_timeout": args.client_timeout}
    logs = ROOT / "var" / "stress"
    logs.mkdir(parents=True, exist_ok=True)
    with serve(store, logs / "isolation.log", workers=2, **settings) as server:
        heavy = heavy_beside_light(server.port, args.heavy, args.light,
                                   timeout=args.query_timeout * 3)
        slow = slow_beside_light(server.port, args.slow, args.probes,
                                 close_wait=args.client_timeout * 2 + 10)
    text = render(heavy, slow, args, settings)
    out = args.out or RESULTS / f"isolation-{dt.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
