"""Faults: processes killed mid-work, full or read-only disks, broken inputs.

- kill -9 a server worker in the middle of a query: the server recovers and answers, and the
  killed worker's query process does not run on as an orphan;
- kill -9 `kg build` mid-load and mid-swap (tests/build_paused.py holds it there): the
  previous store keeps serving, unchanged, and the next build succeeds;
- a full disk (a small tmpfs when we may mount one; a file-size limit always) or a read-only
  builds directory during a build: a clear error, exit 2, the old store intact;
- a corrupted data file: exit 1 and an error naming the file and the line;
- the store missing at serve time: a clear error at start (exit 2), not a 500 per request.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat
from test_heavy_queries import HEAVY, TRIVIAL, ask, heavy_processes, wait_for_heavy

from bench import stress
from bench.servers import _children, _descendants
from graph.build.pipeline import build
from graph.config import Settings
from graph.store import builds_root, open_store

pytestmark = pytest.mark.server

HELD_BUILD = Path(__file__).with_name("build_paused.py")


def content_hash(settings: Settings) -> str:
    store = open_store(settings)
    lines = sorted(store.dump(format=RdfFormat.N_QUADS).splitlines())
    del store
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def snapshot(settings: Settings) -> tuple[str, str]:
    """Where the live store points and what it holds."""
    return os.readlink(settings.store_path), content_hash(settings)


def kg_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update({"KG_ROOT": str(settings.root), "KG_STORE_PATH": str(settings.store_path)})
    env.update(extra)
    return env


def kg(settings: Settings, *args: str, timeout: float = 120, preexec_fn=None,
       **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(stress.kg_command() + list(args), env=kg_env(settings, **extra),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def assert_clear_error(proc: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for word in words:
        assert word in proc.stderr, (word, proc.stderr[-2000:])


@pytest.fixture
def built_mini(mini_settings: Settings) -> Settings:
    """The mini fixture built once, in-process: the 'previous store' of the fault tests."""
    build(mini_settings)
    return mini_settings


# -- the server -------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["cartesian count", "cartesian rows"])  # eager, lazy
def test_issue_6_worker_killed_mid_query_recovers_and_leaves_no_orphan(built_settings, tmp_path,
                                                                      query):
    """Regression: the killed worker's query process used to run on for the whole query."""
    with stress.serve(built_settings.store_path, tmp_path / "server.log", workers=2,
                      query_timeout=20, threads=2) as server:
        master = server.proc.pid
        workers = set(_children(master))
        heavy: list = []
        sender = threading.Thread(
            target=lambda: heavy.append(ask(server.port, HEAVY[query], 60)))
        sender.start()
        # the worker running the heavy query: the one with a niced query process under it
        running_heavy = set(wait_for_heavy(sorted(workers)))
        assert len(running_heavy) == 1, running_heavy
        busy = running_heavy.pop()
        assert heavy_processes(busy)
        orphans = _descendants(busy)
        assert orphans, "the busy worker has no query process"
        os.kill(busy, signal.SIGKILL)
        sender.join(30)
        assert heavy and heavy[0][0] != 200, "the killed query cannot have been answered"
        deadline = time.monotonic() + 30
        answered = 0
        while time.monotonic() < deadline and answered < 5:
            status, body, _ = ask(server.port, TRIVIAL, 10)
            answered = answered + 1 if status == 200 and b"true" in body else 0
            time.sleep(0.05)
        assert answered == 5, "the server did not recover after a worker was killed"
        assert server.proc.poll() is None
        assert busy not in _children(master) and len(_children(master)) == 2
        # the killed worker's query process must not run on as an orphan for the whole query
        # (20 s): it notices its parent is gone and exits well before
        deadline = time.monotonic() + 10
        while running(orphans) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = running(orphans)
        for pid in alive:  # do not leave them burning the CPU of the rest of the suite
            os.kill(pid, signal.SIGKILL)
        assert alive == [], f"orphaned query processes still running: {alive}"


def running(pids: list[int]) -> list[int]:
    """Those of `pids` still running (not gone, not a zombie)."""
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.append(pid)
    return out


def test_issue_6_query_processes_exit_when_the_whole_server_is_killed(built_settings, tmp_path):
    """Regression: with the master killed too, the killed workers stay zombies under a PID 1
    that reaps nobody (a container), and their query processes took them for alive."""
    with stress.serve(built_settings.store_path, tmp_path / "server.log", workers=2,
                      query_timeout=60, threads=2) as server:
        sender = threading.Thread(target=ask, args=(server.port, HEAVY["cartesian rows"], 30),
                                  daemon=True)
        sender.start()
        master = server.proc.pid
        workers = _children(master)
        wait_for_heavy(workers)  # the streamed query's process, reniced, is running
        tree = _descendants(master)
        assert len(tree) > len(workers), "no query process was running"
        os.kill(master, signal.SIGKILL)
        server.proc.wait(10)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while running(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = running(tree)
        for pid in left:  # do not leave them burning the CPU of the rest of the suite
            os.kill(pid, signal.SIGKILL)
        assert left == [], f"processes of the killed server still running: {left}"


def test_store_missing_at_serve_time_is_a_clear_error_at_start(tmp_path):
    settings = Settings(root=tmp_path, store_path=tmp_path / "var" / "store")
    proc = kg(settings, "serve", "--port", "1", timeout=60)
    assert_clear_error(proc, 2, "no built store", "kg build")


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_server_without_a_store_stops_at_start_instead_of_serving_500s(tmp_path, server):
    """The production entry point itself (the server + the app factory), not only `kg serve`."""
    from bench.servers import free_port
    from endpoint.server import command

    port = free_port()
    settings = Settings(root=tmp_path, store_path=tmp_path / "nothing", port=port, server=server)
    env = kg_env(settings, KG_PORT=str(port), KG_HOST="127.0.0.1")
    cmd = command(settings)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=stress.ROOT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{server} kept running without a store:\n{out[-2000:]}")
    assert proc.returncode != 0
    assert "no built store" in out, out[-2000:]
    status, _ = stress.fetch(port, "GET", "/", {}, timeout=2)
    assert status == 0, "something answers on the port although the app could not start"


# -- kg build killed, disk full, read-only ----------------------------------------------------

@pytest.mark.parametrize("stage", ["load", "swap"])
def test_kill_9_build_mid_stage_keeps_the_old_store_serving(built_mini, tmp_path, stage):
    settings = built_mini
    old = snapshot(settings)
    with (settings.data_dir / "place" / "khojaly.ttl").open("a") as fh:
        fh.write("\n# a change: the next build is a new version\n")
    with stress.serve(settings.store_path, tmp_path / "server.log", workers=1) as server:
        _, before, _ = ask(server.port, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        proc = subprocess.Popen([sys.executable, str(HELD_BUILD), stage], env=kg_env(settings),
                                stderr=subprocess.PIPE, text=True, cwd=stress.ROOT)
        line = ""
        deadline = time.monotonic() + 60
        while f"paused at {stage}" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "kg build ended before the pause"
        assert f"paused at {stage}" in line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
        assert snapshot(settings) == old, "the killed build changed the live store"
        status, after, _ = ask(server.port, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert status == 200 and after == before
    done = kg(settings, "build")
    assert done.returncode == 0, done.stderr[-2000:]
    new_target, _ = snapshot(settings)
    assert new_target != old[0]
    assert (settings.store_path / "build.json").is_file()
    leftovers = [p.name for p in builds_root(settings).iterdir()
                 if p.is_dir() and not (p / "build.json").exists()]
    assert leftovers == [], f"half-built directories left behind: {leftovers}"


def _fill_disk(mount: Path, leave_kib: int) -> None:
    free = shutil.disk_usage(mount).free
    with open(mount / "filler", "wb") as fh:
        fh.write(b"\0" * max(free - leave_kib * 1024, 0))


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "fs"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {e}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_during_build_is_a_clear_error(mini_settings, small_tmpfs):
    settings = mini_settings.replace(store_path=small_tmpfs / "var" / "store")
    build(settings)
    old = snapshot(settings)
    _fill_disk(small_tmpfs, leave_kib=64)
    proc = kg(settings, "build")
    assert_clear_error(proc, 2, "build failed", "No space left on device")
    assert snapshot(settings) == old
    assert [p.name for p in builds_root(settings).iterdir()] == [Path(old[0]).name]
    (small_tmpfs / "filler").unlink()
    assert kg(settings, "build").returncode == 0


def _file_size_limit() -> None:
    """In the child: files may not grow past 64 KiB, and writing past it fails with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_file_size_limit_during_build_is_a_clear_error(built_mini):
    """Disk full without root: a file-size limit makes RocksDB's writes fail the same way."""
    settings = built_mini
    old = snapshot(settings)
    proc = kg(settings, "build", preexec_fn=_file_size_limit)
    assert_clear_error(proc, 2, "build failed")
    assert snapshot(settings) == old
    assert [p.name for p in builds_root(settings).iterdir()] == [Path(old[0]).name]


@pytest.fixture
def read_only_builds(built_mini):
    """The builds directory made read-only: a read-only bind mount as root, chmod otherwise."""
    root = builds_root(built_mini)
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(root), str(root)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(root)], check=True)
        yield built_mini
        subprocess.run(["umount", str(root)], check=False)
    else:
        root.chmod(0o555)
        yield built_mini
        root.chmod(0o755)


def test_read_only_builds_directory_is_a_clear_error(read_only_builds):
    settings = read_only_builds
    old = snapshot(settings)
    proc = kg(settings, "build")
    assert_clear_error(proc, 2, "build failed", "Read-only file system"
                       if os.geteuid() == 0 else "Permission denied")
    assert snapshot(settings) == old


# -- broken inputs ------------------------------------------------------------------------------

CORRUPTIONS = {
    "truncated": lambda text: text[: len(text) * 2 // 3],
    "binary garbage": lambda text: text.replace("\n", "\n\x00\x01\x02 garbage ", 1),
    "bad utf-8": None,  # bytes, below
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupted_data_file_names_the_file_and_line(built_mini, kind):
    settings = built_mini
    old = snapshot(settings)
    path = settings.data_dir / "place" / "khojaly.ttl"
    text = path.read_text(encoding="utf-8")
    if kind == "bad utf-8":
        lines = text.encode().split(b"\n")
        lines[3] += b" \xff\xfe\xc0"
        path.write_bytes(b"\n".join(lines))
    else:
        path.write_text(CORRUPTIONS[kind](text), encoding="utf-8")
    proc = kg(settings, "build")
    assert_clear_error(proc, 1, "data/place/khojaly.ttl:")
    located = [ln for ln in proc.stderr.splitlines() if "data/place/khojaly.ttl:" in ln]
    line_no = located[0].split("data/place/khojaly.ttl:")[1].split(":")[0]
    assert line_no.isdigit() and int(line_no) >= 1, located
    assert snapshot(settings) == old
