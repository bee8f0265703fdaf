"""Start, probe and stop the three servers the endpoint is compared with, on 127.0.0.1 only.

- ours: the server `kg serve` runs (endpoint/server.py: granian) with every guard on, over the
  built store;
- baseline: gunicorn running bench/baseline_app.py (same worker count) over the same store;
- oxigraph: Oxigraph's own Rust server (`oxigraph serve-read-only`) from a separate venv
  (var/oxigraph-venv, made by `make bench-deps`), never a project dependency.
Each runs alone while measured, so they never compete for the two cores.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OXIGRAPH_BIN = ROOT / "var" / "oxigraph-venv" / "bin" / "oxigraph"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    started_s: float  # from spawn to the first good answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        """RSS of the server and all its descendants (gunicorn workers, query processes)."""
        return sum(_rss(pid) for pid in [self.proc.pid, *_descendants(self.proc.pid)])

    def worker_pids(self) -> list[int]:
        return _children(self.proc.pid) or [self.proc.pid]

    def stop(self) -> None:
        """Stop the server and every process it started. A granian master killed after its
        15 s leaves its workers behind, orphaned and still spinning on a core: they are
        killed by pid, so they do not load the next server's measurements."""
        family = {pid: _cmdline(pid) for pid in _descendants(self.proc.pid)}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid, cmdline in family.items():
            if cmdline and _cmdline(pid) == cmdline:  # still the same process, not a reused pid
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _wait(proc: subprocess.Popen, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} within {timeout}s")


PROBE = "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"


def _spawn(name: str, cmd: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=fh, stderr=fh)
    try:
        _wait(proc, f"http://127.0.0.1:{port}{PROBE}", 120)
    except RuntimeError:
        proc.kill()
        raise
    return Server(name, proc, port, time.perf_counter() - t0)


def gunicorn_cmd() -> list[str]:
    return [sys.executable, "-m", "gunicorn"]


def start_ours(store_path: Path, workers: int, log: Path) -> Server:
    """What `kg serve` runs (endpoint/server.py: granian), over `store_path`."""
    from endpoint.server import command
    from graph.config import Settings

    port = free_port()
    env = {"KG_STORE_PATH": str(store_path), "KG_WORKERS": str(workers),
           "KG_PORT": str(port), "KG_HOST": "127.0.0.1"}
    settings = Settings.from_env(env)
    return _spawn("ours", command(settings), env, port, log)


def start_baseline(store_dir: Path, workers: int, log: Path) -> Server:
    port = free_port()
    cmd = gunicorn_cmd() + ["-b", f"127.0.0.1:{port}", "-w", str(workers),
                            "bench.baseline_app:create_app()"]
    return _spawn("baseline", cmd, {"BENCH_STORE": str(store_dir)}, port, log)


def start_oxigraph(store_dir: Path, log: Path) -> Server | None:
    if not OXIGRAPH_BIN.exists():
        return None
    port = free_port()
    cmd = [str(OXIGRAPH_BIN), "serve-read-only", "--location", str(store_dir),
           "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    return _spawn("oxigraph", cmd, {}, port, log)
