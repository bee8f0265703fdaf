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
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import BinaryIO

from endpoint import query_worker
from endpoint.query_worker import Job, Outcome
from graph.errors import KGError, QuerySyntaxError, QueryTimeout, StoreMissing, UnknownFormat

log = logging.getLogger(__name__)

_CTX = multiprocessing.get_context("forkserver")
_CTX.set_forkserver_preload(["endpoint.query_worker"])

START_TIMEOUT = 30.0


class QueryFailed(KGError):
    """The query process failed for reasons of its own (I/O, a crash): not the query's fault."""

    status = 500


class QueryEvaluationFailed(KGError):
    """The query parsed but cannot be evaluated here (e.g. an unknown function)."""

    status = 400


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """Up to `size` worker processes over the store at `store_dir`, each running one job at once."""

    def __init__(self, store_dir: str, size: int, timeout: float, spool_dir: str | None = None):
        self.store_dir = store_dir
        self.size = max(1, size)
        self.timeout = timeout
        self.spool_dir = _spool_dir(spool_dir or tempfile.gettempdir())
        weakref.finalize(self, shutil.rmtree, self.spool_dir, True)
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
        shutil.rmtree(self.spool_dir, ignore_errors=True)  # open results keep their descriptors
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break

    def _spawn(self) -> _Worker:
        parent, child = _CTX.Pipe()
        process = _CTX.Process(
            target=query_worker.serve, args=(child, self.store_dir, os.getpid()), daemon=True,
            name="kg-query-worker",
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        if not parent.poll(START_TIMEOUT):
            worker.kill()
            raise StoreMissing(f"a query worker did not start within {START_TIMEOUT:.0f} s")
        try:
            hello: Outcome = parent.recv()
        except EOFError:
            worker.kill()
            raise StoreMissing("a query worker exited while opening the store") from None
        if hello.status != "ok":
            worker.kill()
            raise StoreMissing(hello.message)
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
        if self._closed:
            worker.kill()
            self._forget()
        else:
            self._idle.put(worker)

    # -- running -----------------------------------------------------------------------------
    def run(self, job: Job) -> Result:
        """Run a job to completion within the time limit; raise a KGError otherwise."""
        spool_path = os.path.join(self.spool_dir, f"kg-result-{uuid.uuid4().hex}.part")
        job = replace(job, spool_path=spool_path)
        worker = self._acquire()  # waits at most `timeout`; starting a worker is not query time
        try:
            worker.conn.send(job)
            ready = worker.conn.poll(self.timeout)
            outcome: Outcome | None = worker.conn.recv() if ready else None
        except (EOFError, OSError, BrokenPipeError) as e:
            worker.kill()
            self._forget()
            _remove(spool_path)
            raise QueryFailed(f"the query worker died while running the query ({e!r})") from e
        if outcome is None:
            worker.kill()
            self._forget()
            _remove(spool_path)
            raise QueryTimeout(
                f"query stopped: it ran longer than the limit of {self.timeout:g} s "
                "(KG_QUERY_TIMEOUT); simplify it or add a LIMIT"
            )
        self._release(worker)
        if outcome.status != "ok" or not outcome.spooled:
            _remove(spool_path)  # a failed serialization may have left a partial file
        return Result.from_outcome(outcome, spool_path)


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
        if outcome.status != "ok":
            raise QueryFailed(outcome.message)
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


SPOOL_PREFIX = "kg-spool-"


def _spool_dir(parent: str) -> str:
    """A spool directory for this process, named after its pid, once the spool directories of
    processes that are gone (killed with results half-written) have been swept away."""
    for entry in os.scandir(parent):
        if entry.name.startswith(SPOOL_PREFIX) and entry.is_dir(follow_symlinks=False):
            pid = entry.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=parent)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
