"""The body of a query worker process: opens the store read-only and runs jobs off a pipe.

Runs in a child process (see `endpoint.executor`), so it imports pyoxigraph only: no Flask, no
app. A job is parsed, executed and serialized here in full before the parent hears back, so the
parent knows the HTTP status before the first byte of the body leaves. Small results come back
through the pipe; larger ones are spooled to a file the parent named and then streams, so no
result is ever held whole in memory by either side.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
)


@dataclass(frozen=True)
class Job:
    """One query to run. Formats are media types (pyoxigraph formats do not pickle)."""

    query: str
    spool_path: str
    results_media_type: str | None  # for SELECT / ASK; None when none is acceptable
    graph_media_type: str | None  # for CONSTRUCT / DESCRIBE
    base_iri: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    union_default_graph: bool = True
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    inline_limit: int = 256 * 1024


@dataclass(frozen=True)
class Outcome:
    """What came of a job. status: ok | syntax | failed (evaluation) | not_acceptable | error."""

    status: str
    message: str = ""
    kind: str = ""  # solutions | boolean | graph
    media_type: str = ""
    body: bytes | None = None  # the whole result when small
    spooled: bool = False  # else the result is in job.spool_path
    size: int = 0


class _Spool:
    """A binary writer that keeps up to `limit` bytes in memory, then moves to a file."""

    def __init__(self, path: str, limit: int):
        self.path, self.limit = path, limit
        self.buffer = bytearray()
        self.file = None
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.file is None and len(self.buffer) + len(data) <= self.limit:
            self.buffer += data
            return len(data)
        if self.file is None:
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            self.file.write(self.buffer)
            self.buffer = bytearray()
        return self.file.write(data)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def run_job(store: Store, job: Job) -> Outcome:
    """Parse, execute and serialize one job; every expected failure becomes an Outcome."""
    kwargs: dict = {"base_iri": job.base_iri, "prefixes": job.prefixes or None}
    if job.default_graphs:
        kwargs["default_graph"] = [NamedNode(iri) for iri in job.default_graphs]
    elif job.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs:
        kwargs["named_graphs"] = [NamedNode(iri) for iri in job.named_graphs]
    try:
        results = store.query(job.query, **kwargs)
    except SyntaxError as e:
        return Outcome("syntax", message=str(e))
    except (ValueError, RuntimeError) as e:  # e.g. an unknown function: the query's fault
        return Outcome("failed", message=str(e))
    except OSError as e:
        return Outcome("error", message=str(e))
    if isinstance(results, QuerySolutions | QueryBoolean):
        kind = "solutions" if isinstance(results, QuerySolutions) else "boolean"
        if job.results_media_type is None:
            return Outcome("not_acceptable", kind=kind)
        fmt = QueryResultsFormat.from_media_type(job.results_media_type)
        media_type = job.results_media_type
    else:
        kind = "graph"
        if job.graph_media_type is None:
            return Outcome("not_acceptable", kind=kind)
        fmt = RdfFormat.from_media_type(job.graph_media_type)
        media_type = job.graph_media_type
    spool = _Spool(job.spool_path, job.inline_limit)
    try:
        results.serialize(spool, fmt)
    except (ValueError, RuntimeError) as e:
        return Outcome("failed", message=str(e))
    except OSError as e:
        return Outcome("error", message=str(e))
    finally:
        spool.close()
    if spool.file is None:
        return Outcome("ok", kind=kind, media_type=media_type, body=bytes(spool.buffer),
                       size=spool.size)
    return Outcome("ok", kind=kind, media_type=media_type, spooled=True, size=spool.size)


def serve(conn: Connection, store_dir: str, owner: int | None = None) -> None:
    """Worker main loop: announce readiness, then answer jobs until the pipe closes."""
    if owner is not None:
        _exit_with(owner)
    _die_with_fork_server()
    try:
        store = Store.read_only(store_dir)
    except OSError as e:
        conn.send(Outcome("error", message=f"cannot open the store at {store_dir}: {e}"))
        return
    conn.send(Outcome("ok", message="ready"))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(run_job(store, job))


def _exit_with(owner: int, every: float = 0.5) -> None:
    """Exit as soon as the process that owns this worker is gone (issue 6).

    A gunicorn worker killed mid-query (kill -9, OOM) cannot kill its query process, which is a
    child of the fork server, not of the gunicorn worker: without this the query would run on as
    an orphan for its whole length (minutes, for a cartesian product), holding the fork server
    alive too. pyoxigraph releases the GIL while it evaluates, so this thread runs meanwhile.
    """

    def watch() -> None:
        while _alive(owner):
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="kg-owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Is `pid` running? A zombie is not: a killed gunicorn worker whose master is gone too stays
    a zombie for ever under a container's PID 1 that reaps nobody, and signals still reach it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):  # no /proc (not Linux): the signal test is all we have
        return True


def _die_with_fork_server() -> None:
    """On Linux, let the kernel end this process with the fork server, and the fork server with
    the gunicorn worker that owns it (issue 6), without a thread that needs the GIL.

    The fork server exits when its owner is gone and nobody else holds the pipe end that keeps it
    alive; every process it forks inherits that end, so close ours. Then PR_SET_PDEATHSIG makes
    the fork server's exit a SIGKILL for this process, wherever its query is.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is None:
        return  # not started by a fork server
    try:
        os.close(alive)
    except OSError:
        pass
    server._forkserver_alive_fd = None
    parent = os.getppid()
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the fork server died before prctl took effect
        os._exit(1)
