"""A bounded HTTP load generator for loopback servers: wrk when installed, else a Python client.

Why two: wrk (Debian package `wrk`, installed by `make bench-deps`) is written in C and leaves
the CPU to the server under test, which matters on a 2-core machine; the Python client keeps
the benchmark runnable where wrk is missing, with the same bounds (duration AND request count)
and the same output (req/s, p50, p99, errors). Both refuse any host but 127.0.0.1.
"""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

MAX_REQUESTS = 2_000_000  # a hard bound on the Python client, whatever the duration


@dataclass
class LoadResult:
    tool: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx statuses

    def as_dict(self) -> dict:
        return asdict(self)


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load is only generated against loopback, not {host!r}")


def run(url: str, connections: int, seconds: float, headers: dict[str, str] | None = None,
        prefer_wrk: bool = True, unique: bool = False) -> LoadResult:
    """GET `url` over `connections` keep-alive connections for `seconds`.

    `unique`: every request gets its own URL (a SPARQL comment line with a counter appended to
    the query string: `%0A%23<n>`), so no cache, ours or a client's, can answer it; what is left
    is the cost of really running the query.
    """
    _check_loopback(url)
    if prefer_wrk and shutil.which("wrk"):
        return _run_wrk(url, connections, seconds, headers or {}, unique)
    return _run_python(url, connections, seconds, headers or {}, unique)


#: wrk's script for `unique`: each thread numbers its requests; thread ids keep them apart.
_UNIQUE_LUA = """
local counter, tid = 0, 0
local ids = 0
function setup(thread) ids = ids + 1; thread:set("tid", ids) end
function init(args) tid = wrk.thread:get("tid") or 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "%0A%23" .. tid .. "-" .. counter)
end
"""


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _run_wrk(url: str, connections: int, seconds: float, headers: dict[str, str],
             unique: bool = False) -> LoadResult:
    cmd = ["wrk", "--latency", "-t", str(min(connections, 2)), "-c", str(connections),
           "-d", f"{max(1, round(seconds))}s", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    with tempfile.TemporaryDirectory() as tmp:
        if unique:
            script = Path(tmp) / "unique.lua"
            script.write_text(_UNIQUE_LUA)
            cmd += ["-s", str(script)]
        out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True,
                             timeout=seconds + 30).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not (pct and total and rps):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return LoadResult("wrk", connections, seconds, int(total.group(1)), float(rps.group(1)),
                      _ms(pct["50"]), _ms(pct["99"]), errors)


def _run_python(url: str, connections: int, seconds: float, headers: dict[str, str],
                unique: bool = False) -> LoadResult:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline and len(latencies) + len(mine) < MAX_REQUESTS:
            path = f"{target}%0A%23{tid}-{len(mine)}" if unique else target
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    elapsed = time.perf_counter() - started
    if not latencies:
        return LoadResult("python", connections, elapsed, 0, 0.0, 0.0, 0.0, errors[0])
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return LoadResult("python", connections, elapsed, len(latencies), len(latencies) / elapsed,
                      q[49] * 1e3, q[98] * 1e3, errors[0])
