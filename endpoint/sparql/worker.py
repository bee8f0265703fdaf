"""The body of a query worker process: opens the store read-only and runs jobs off a pipe.

Runs in a child process (see `endpoint.sparql.pool`), so it imports pyoxigraph only: no Flask, no
app. A job is parsed and executed here, and its result serialized by pyoxigraph's native
serializer into a `_Stream`:

- a result that ends within `job.inline_limit` bytes comes back whole in one `Outcome`, so the
  parent knows the status (200 or an error) before the first byte of the body leaves;
- a bigger one is announced by an `Outcome(streaming=True)` as soon as it passes the limit, then
  sent on as tagged byte frames of `chunk_size` while pyoxigraph produces it (`DATA` + bytes …,
  then `END`, or `FAIL` + message). Neither process ever holds the whole result, and the pipe's
  back-pressure paces the serializer to the client's reading.

Before it reads a job the process restricts itself for good (endpoint/sparql/sandbox.py: no
network, or only the allow-listed ports), and it evaluates every job on a thread with a big stack
(`STACK_SIZE`): the engine recurses once per step of a property path or level of nesting, and the
8 MiB of a main thread end near 8,000 steps, where the process would die.

The pipe is lean: the constant part of every job (base IRI, prefixes) is sent once per process
(`CONTEXT` frame, again only if it changes), a job is a small pickled tuple (`JOB` frame).
"""

from __future__ import annotations

import errno
import logging
import os
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import BinaryIO

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
)

from endpoint.sparql import sandbox

log = logging.getLogger(__name__)

# The stack of the thread that evaluates jobs: virtual memory, touched only as deep as a query
# goes. How far it carries is measured in tests/test_sandbox.py.
STACK_SIZE = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Job:
    """One query to run. Formats are media types (pyoxigraph formats do not pickle)."""

    query: str
    spool_path: str  # where a result past inline_limit goes when run without a pipe
    results_media_type: str | None  # for SELECT / ASK; None when none is acceptable
    graph_media_type: str | None  # for CONSTRUCT / DESCRIBE
    base_iri: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    union_default_graph: bool = True
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    inline_limit: int = 256 * 1024
    chunk_size: int = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """What came of a job. status: ok | syntax | failed (evaluation) | not_acceptable |
    refused (the sandbox denied a connection) | error. `message` is for the server's log: the
    parent decides what a client may read of it."""

    status: str
    message: str = ""
    kind: str = ""  # solutions | boolean | graph
    media_type: str = ""
    body: bytes | None = None  # the whole result when small
    spooled: bool = False  # the result is in job.spool_path (no conn: a remote backend)
    streaming: bool = False  # the result follows on the pipe as DATA frames, then END or FAIL
    size: int = 0


# Frames of a streamed result (Connection.send_bytes): one tag byte, then the payload.
DATA = b"d"
END = b"e"
FAIL = b"x"
# Frames to a worker: the constant part of jobs (base IRI, prefixes), or one job
CONTEXT = b"c"
JOB = b"j"


def context_frame(base_iri: str | None, prefixes: dict[str, str]) -> bytes:
    return CONTEXT + pickle.dumps((base_iri, prefixes), pickle.HIGHEST_PROTOCOL)


def job_frame(job: Job) -> bytes:
    """A job without its constant part (see `context_frame`) and its spool path (a worker
    streams, it never spools)."""
    return JOB + pickle.dumps(
        (job.query, job.results_media_type, job.graph_media_type, job.union_default_graph,
         job.default_graphs, job.named_graphs, job.inline_limit, job.chunk_size),
        pickle.HIGHEST_PROTOCOL)


def read_job(payload: bytes, base_iri: str | None, prefixes: dict[str, str]) -> Job:
    (query, results, graph, union, default_graphs, named_graphs, inline_limit,
     chunk_size) = pickle.loads(payload)
    return Job(query, "", results, graph, base_iri, prefixes, union, default_graphs,
               named_graphs, inline_limit, chunk_size)


class _Stream:
    """A binary writer for pyoxigraph's serializers: keeps the first `inline_limit` bytes, then
    either announces a streamed result and forwards the rest to `conn` in frames of `chunk_size`
    (a worker process), or, without a `conn`, moves to the file at `spool_path` (a remote backend
    run in the request's thread, see endpoint/sparql/remote_pool.py)."""

    def __init__(self, conn: Connection | None, spool_path: str, inline_limit: int,
                 chunk_size: int, header: Outcome):
        self.conn, self.spool_path, self.header = conn, spool_path, header
        self.limit, self.chunk_size = inline_limit, chunk_size
        self.buffer = bytearray()
        self.streaming = False
        self.file: BinaryIO | None = None
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.buffer += data
        if self.file is None and not self.streaming and len(self.buffer) > self.limit:
            if self.conn is not None:
                self.conn.send(self.header)
                self.streaming = True
            else:
                self.file = open(self.spool_path, "wb")  # noqa: SIM115 - closed in close()
        if len(self.buffer) >= self.chunk_size:
            if self.streaming:
                self._send(bytes(self.buffer))
                self.buffer.clear()
            elif self.file is not None:
                self.file.write(self.buffer)
                self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        """pyoxigraph flushes at the end of a result only: `finish` does the work."""

    def finish(self) -> None:
        """Write out what is buffered: the END frame when streaming, the spool file's tail."""
        if self.streaming:
            if self.buffer:
                self._send(bytes(self.buffer))
            self.conn.send_bytes(END)
        elif self.file is not None:
            self.file.write(self.buffer)
        else:
            return
        self.buffer.clear()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def _send(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        for at in range(0, len(view), self.chunk_size):
            self.conn.send_bytes(DATA + view[at:at + self.chunk_size])


def run_job(store: Store, job: Job, conn: Connection | None = None) -> Outcome | None:
    """Parse, execute and serialize one job; every expected failure becomes an Outcome.

    With a `conn`, a result bigger than `job.inline_limit` is streamed to it (see the module
    docstring) and None is returned: everything has been sent. Without one (a remote backend,
    run in the request's thread), such a result is spooled to `job.spool_path`.
    """
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
    except OSError as e:  # a SERVICE endpoint that failed or was denied, or the store's I/O
        return Outcome("refused" if _denied(e) else "error", message=str(e))
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
    header = Outcome("ok", kind=kind, media_type=media_type, streaming=True)
    stream = _Stream(conn, job.spool_path, job.inline_limit, job.chunk_size, header)
    try:
        results.serialize(stream, fmt)
        stream.finish()
    except (ValueError, RuntimeError, OSError) as e:
        if stream.streaming:  # the status is gone already: end the stream as failed
            conn.send_bytes(FAIL + str(e).encode("utf-8", "replace"))
            return None
        if isinstance(e, OSError):  # SERVICE is evaluated lazily, as the results are read
            return Outcome("refused" if _denied(e) else "error", message=str(e))
        return Outcome("failed", message=str(e))
    finally:
        stream.close()
    if stream.streaming:
        return None
    if stream.file is not None:
        return Outcome("ok", kind=kind, media_type=media_type, spooled=True, size=stream.size)
    return Outcome("ok", kind=kind, media_type=media_type, body=bytes(stream.buffer),
                   size=stream.size)


def _denied(error: OSError) -> bool:
    """Did the sandbox deny a connection? pyoxigraph passes Rust's I/O error on as a plain
    OSError whose text ends in "(os error 1)" (EPERM, what the seccomp filter and Landlock
    return), without setting errno."""
    return isinstance(error, PermissionError) or error.errno in (errno.EPERM, errno.EACCES) \
        or str(error).endswith(("(os error 1)", "(os error 13)"))


def serve(conn: Connection, store_dir: str, owner: int | None = None,
          profile: str = sandbox.OFFLINE, allowed_ports: frozenset[int] = frozenset(),
          resolve_names: bool = False) -> None:
    """Worker main loop: restrict this process, open the store, announce readiness, then answer
    jobs until the pipe closes.

    The sandbox goes on first, on the main thread: every thread started later (the store's,
    the job thread) inherits it, and a failure is sent as the hello, so the pool refuses to
    start rather than run a query unrestricted.
    """
    _die_with_fork_server()
    try:
        sandbox.install(profile, allowed_ports, resolve_names)
    except sandbox.SandboxUnavailable as e:
        conn.send(Outcome("error", message=str(e), kind="sandbox"))
        return
    try:
        store = Store.read_only(store_dir)
    except OSError as e:
        conn.send(Outcome("error", message=f"cannot open the store at {store_dir}: {e}"))
        return
    conn.send(Outcome("ok", message="ready"))
    if owner is not None:
        _exit_with(owner)
    jobs = threading.Thread(target=_answer, args=(conn, store), name="kg-query-jobs")
    threading.stack_size(STACK_SIZE)  # read when a thread starts
    try:
        jobs.start()
    finally:
        threading.stack_size(0)  # only this thread needs the big stack
    jobs.join()


def _answer(conn: Connection, store: Store) -> None:
    base_iri: str | None = None
    prefixes: dict[str, str] = {}
    while True:
        try:
            frame = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if frame[:1] == CONTEXT:
            base_iri, prefixes = pickle.loads(frame[1:])
            continue
        outcome = run_job(store, read_job(frame[1:], base_iri, prefixes), conn)
        if outcome is not None:
            conn.send(outcome)


def _exit_with(owner: int, every: float = 0.5) -> None:
    """Exit as soon as the process that owns this worker is gone.

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
    the gunicorn worker that owns it, without a thread that needs the GIL.

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
