"""Queries under a hard time limit: a small pool of killable worker processes.

pyoxigraph has no timeout and no cancellation, and an aggregate or ORDER BY does all its work in
one native call that no Python thread can interrupt. So each query runs in a child process with
its own `Store.read_only` handle on the same directory (it opens in milliseconds). When a query
overruns `timeout`, the child is killed (SIGKILL) and replaced lazily; the caller gets
`QueryTimeout`, and every other request keeps its own worker.

Children come from a `forkserver`: forking a process that holds an open RocksDB (and Flask, and
threads) is unsafe, while the fork server is a clean interpreter that has imported only the
worker module, so a respawn costs a fork, not an interpreter start.

The pool is per app (per gunicorn worker process); its size bounds that process's concurrency.

A result bigger than the worker's inline limit is streamed (`Streamed`): the caller gets it as
soon as the worker announces it, and reads its chunks off the pipe while the worker is still
serializing. The time limit covers the whole stream: a timer kills the worker at the deadline
whatever the client is doing, and the stream then ends with `StreamCut`, which the WSGI server
turns into a dropped connection (the status line, 200, is gone already; a cut chunked body is how
every streaming SPARQL server reports a failure half-way).

Every process of a pool runs under its sandbox profile (endpoint/sparql/sandbox.py): "offline"
for the public endpoint, "federation" (only the allow-listed ports) for the pool that answers
queries with allow-listed SERVICE calls. What went wrong inside a process (OS errors, paths,
exit signals) goes to the server's log; a client is told what happened in general words only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import BinaryIO

from endpoint.sparql import sandbox
from endpoint.sparql import worker as query_worker
from endpoint.sparql.worker import DATA, END, Job, Outcome, context_frame, job_frame
from graph.errors import (
    ConnectionDenied,
    QueryEvaluationFailed,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    UnknownFormat,
    WorkerUnavailable,
)

log = logging.getLogger(__name__)

_CTX = multiprocessing.get_context("forkserver")
_CTX.set_forkserver_preload(["endpoint.sparql.worker"])

START_TIMEOUT = 30.0


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    retire: bool = False  # killed instead of reused when released (e.g. it was reniced)
    context: tuple | None = None  # the (base IRI, prefixes) this process was last sent

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """Up to `size` worker processes over the store at `store_dir`, each running one job at once."""

    def __init__(self, store_dir: str, size: int, timeout: float, nice: int = 0,
                 profile: str = sandbox.OFFLINE, allowed_ports: frozenset[int] = frozenset(),
                 resolve_names: bool = False):
        self.store_dir = store_dir
        self.size = max(1, size)
        self.timeout = timeout
        self.nice = nice  # added to the niceness of every process this pool starts
        if profile not in sandbox.PROFILES:
            raise ValueError(f"unknown sandbox profile {profile!r}")
        self.profile = profile
        self.allowed_ports = frozenset(allowed_ports)
        self.resolve_names = resolve_names
        if profile == sandbox.OFF:
            log.warning("KG_SANDBOX=off: query processes run WITHOUT their network sandbox; "
                        "a query can make this server open connections (SERVICE)")
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._count = 0
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------
    def warm(self) -> None:
        """Start one worker now, so the first request does not pay for it."""
        self._idle.put(self._acquire())

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break

    def _spawn(self) -> _Worker:
        parent, child = _CTX.Pipe()
        process = _CTX.Process(
            target=query_worker.serve, daemon=True, name="kg-query-worker",
            args=(child, self.store_dir, os.getpid(), self.profile, self.allowed_ports,
                  self.resolve_names),
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        if self.nice:
            os.setpriority(os.PRIO_PROCESS, process.pid, os.getpriority(os.PRIO_PROCESS, 0)
                           + self.nice)
        unavailable = "the query service is unavailable: no query process could start"
        if not parent.poll(START_TIMEOUT):
            worker.kill()
            raise WorkerUnavailable(unavailable, f"no hello within {START_TIMEOUT:.0f} s")
        try:
            hello: Outcome = parent.recv()
        except EOFError:
            worker.kill()
            raise WorkerUnavailable(unavailable, f"exit code {process.exitcode}") from None
        if hello.status != "ok":
            worker.kill()
            raise WorkerUnavailable(unavailable, hello.message)
        return worker

    def _acquire(self) -> _Worker:
        """An idle worker, a new one while the pool is below its size, or wait for either.

        A waiting request polls, so it can take the slot freed when another request's worker is
        killed for overrunning, instead of waiting for a worker that will never come back.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                grow = self._count < self.size
                if grow:
                    self._count += 1
            if grow:
                try:
                    return self._spawn()
                except BaseException:
                    self._forget()
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QueryTimeout(
                    f"all {self.size} query workers stayed busy for {self.timeout:g} s; "
                    "try again later"
                )
            try:
                return self._idle.get(timeout=min(remaining, 0.05))
            except queue.Empty:
                continue

    def _forget(self) -> None:
        with self._lock:
            self._count -= 1

    def _release(self, worker: _Worker) -> None:
        if self._closed or worker.retire:
            worker.kill()
            self._forget()
        else:
            self._idle.put(worker)

    # -- running -----------------------------------------------------------------------------
    def run(self, job: Job, timeout: float | None = None) -> Result | Streamed:
        """Run a job within the time limit: its whole result, or a stream of it once it is
        known to be big; raise a KGError otherwise.

        `timeout` (default: the pool's) bounds the time to the result or to the start of its
        stream; a stream then runs on up to the pool's limit from the start."""
        worker = self._acquire()  # waits at most `timeout`; starting a worker is not query time
        deadline = time.monotonic() + self.timeout
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        try:
            self._send(worker, job)
            ready = worker.conn.poll(limit)
            outcome: Outcome | None = worker.conn.recv() if ready else None
        except (EOFError, OSError) as e:
            self._discard(worker)
            raise QueryFailed(
                "the query process stopped while running this query (a query this deep or big "
                "can exhaust it); the server is fine: try again, or simplify the query",
                f"{e!r}, exit code {worker.process.exitcode}") from e
        if outcome is None:
            self._discard(worker)
            raise QueryTimeout(
                f"query stopped: it ran longer than the limit of {limit:g} s "
                "(KG_QUERY_TIMEOUT); simplify it or add a LIMIT"
            )
        if outcome.streaming:
            return Streamed(outcome.kind, outcome.media_type, self, worker, deadline)
        self._release(worker)
        return Result.from_outcome(outcome, "")

    @staticmethod
    def _send(worker: _Worker, job: Job) -> None:
        """The job, after its constant part if this process does not hold that yet."""
        known = worker.context
        if (known is None or known[0] != job.base_iri
                or (known[1] is not job.prefixes and known[1] != job.prefixes)):
            worker.conn.send_bytes(context_frame(job.base_iri, job.prefixes))
            worker.context = (job.base_iri, job.prefixes)
        worker.conn.send_bytes(job_frame(job))

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker that overran or broke, and free its slot."""
        worker.kill()
        self._forget()


class StreamCut(Exception):  # noqa: N818 - named for what the client sees
    """A streamed result ended early: the time limit, a failure half-way, or a dead worker.

    Raised from the body iterator after the 200 is sent, so the server drops the connection and
    the client sees an incomplete body rather than a complete-looking short one.
    """


class Streamed:
    """A big result read off the worker's pipe while the worker is still producing it."""

    size = None  # unknown until the end: sent chunked

    def __init__(self, kind: str, media_type: str, pool: QueryPool, worker: _Worker,
                 deadline: float):
        self.kind, self.media_type = kind, media_type
        self.body = None
        self._pool, self._worker = pool, worker
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._overrun)
        self._timer.daemon = True
        self._timer.start()
        self.cut_reason = ""

    def chunks(self) -> Iterator[bytes]:
        conn = self._worker.conn
        while True:
            try:
                frame = conn.recv_bytes()
            except (EOFError, OSError) as e:
                self._end(released=False)
                reason = self.cut_reason or f"the query worker died mid-stream ({e!r})"
                raise StreamCut(reason) from e
            tag, payload = frame[:1], frame[1:]
            if tag == DATA:
                yield payload
                continue
            if tag == END:
                self._end(released=True)
                return
            self._end(released=True)  # FAIL: the worker is fine, the query failed half-way
            raise StreamCut(f"query evaluation failed mid-stream: {payload.decode('utf-8')}")

    def close(self) -> None:
        """Called when the response is closed: a stream not read to its end (the client went
        away, a HEAD) leaves the worker mid-result, so it is killed."""
        self._end(released=False)

    def _overrun(self) -> None:
        self.cut_reason = (
            f"query stopped mid-stream: it ran longer than the limit of {self._pool.timeout:g} s "
            "(KG_QUERY_TIMEOUT)"
        )
        log.warning("%s", self.cut_reason)
        self._end(released=False)

    def _end(self, released: bool) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._timer.cancel()
        if released:
            self._pool._release(self._worker)
        else:
            self._pool._discard(self._worker)


@dataclass
class Result:
    """A finished result: its media type, size and its bytes, inline or in an unlinked file."""

    kind: str
    media_type: str
    size: int
    body: bytes | None
    handle: BinaryIO | None = None

    @classmethod
    def from_outcome(cls, outcome: Outcome, spool_path: str) -> Result:
        if outcome.status == "syntax":
            raise QuerySyntaxError(outcome.message)
        if outcome.status == "not_acceptable":
            raise UnknownFormat(f"no acceptable media type for a {outcome.kind} result")
        if outcome.status == "failed":
            raise QueryEvaluationFailed(f"query evaluation failed: {outcome.message}")
        if outcome.status == "refused":
            raise ConnectionDenied(
                "query refused: it asked for a network connection (SERVICE) this endpoint "
                "does not make", outcome.message)
        if outcome.status != "ok":
            raise QueryFailed(
                "the query could not be completed: a SERVICE endpoint or the store failed; "
                "try again later", outcome.message)
        if not outcome.spooled:
            return cls(outcome.kind, outcome.media_type, outcome.size, outcome.body)
        # Open, then unlink: the file lives as long as this handle, whatever the client does.
        handle = open(spool_path, "rb")  # noqa: SIM115 - closed by close()
        _remove(spool_path)
        return cls(outcome.kind, outcome.media_type, outcome.size, None, handle)

    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        if self.body is not None:
            yield self.body
            return
        assert self.handle is not None
        try:
            while chunk := self.handle.read(chunk_size):
                yield chunk
        finally:
            self.handle.close()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
