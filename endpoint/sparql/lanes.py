"""Heavy never delays light: two lanes of query processes, and a machine-wide bound on heavy ones.

Whether a query is cheap is only known by running it (pyoxigraph has no cost estimate that
holds), so every query starts in the **fast lane**: one of KG_QUERY_PROCESSES processes of this
server worker, for at most KG_FAST_BUDGET seconds. Almost every query ends well inside it. One
still running then is killed (as any overrun is) and run again from the start in the **heavy
lane**, once it holds one of KG_HEAVY_SLOTS slots shared by every worker of the server (lock
files under the store's directory, taken with `flock`: the kernel frees the slot of a worker
that dies), in a process started with a positive nice value, so the scheduler gives light
queries the CPU first; there it runs up to KG_QUERY_TIMEOUT. A query waits for a slot at most
KG_QUERY_TIMEOUT, and at most half this worker's request threads wait at once: past either
bound it is answered 503 at once, so heavy queries can never take every thread and a light
query always finds one. A query text that was moved once goes straight to the heavy lane the
next times (a worker remembers the last KNOWN_HEAVY of them): a client that repeats a heavy
query does not burn the fast budget again and again beside the light ones.

A big result is streamed as soon as it is known to be big: if that happens in the fast lane,
the stream goes on there up to KG_QUERY_TIMEOUT, its process reniced like a heavy one and
retired when the stream ends (a reniced process cannot be made fast again without privileges).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from endpoint.sparql import sandbox
from endpoint.sparql.pool import QueryPool, Result, Streamed
from endpoint.sparql.worker import Job
from graph.config import Settings
from graph.errors import HeavyLaneFull, QueryTimeout

log = logging.getLogger(__name__)

KNOWN_HEAVY = 1024
HEAVY_NICE = 19  # the lowest priority: heavy work gets the CPU light work leaves
SLOT_POLL = 0.02  # s between two tries for a free heavy slot


class HeavySlots:
    """`count` machine-wide slots: one lock file each in `directory`, held with flock."""

    def __init__(self, directory: Path, count: int):
        self.directory = directory
        self.count = max(1, count)
        directory.mkdir(parents=True, exist_ok=True)

    def acquire(self, deadline: float) -> int | None:
        """An open, locked slot file (its fd), or None when none freed before `deadline`."""
        while True:
            for n in range(self.count):
                fd = os.open(self.directory / f"slot-{n}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            if time.monotonic() >= deadline:
                return None
            time.sleep(SLOT_POLL)

    @staticmethod
    def release(fd: int) -> None:
        os.close(fd)  # closing the only descriptor of the open file drops its lock


def slots_directory(settings: Settings) -> Path:
    """Next to the store, so every worker of one server (one store) shares the slots; a
    temporary directory keyed by the store's path when that place is not writable."""
    here = Path(settings.store_path).parent / "lanes"
    try:
        here.mkdir(parents=True, exist_ok=True)
        if os.access(here, os.W_OK):
            return here
    except OSError:
        pass
    key = hashlib.sha256(str(Path(settings.store_path).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"khojaly-kg-lanes-{key}"


class Lanes:
    """The query pool of a server worker: `run(job)` as QueryPool's, through the two lanes."""

    def __init__(self, store_dir: str, settings: Settings):
        self.timeout = settings.query_timeout
        self.fast_budget = min(settings.fast_budget, settings.query_timeout)
        profile = sandbox.profile_for(settings.sandbox)
        self.fast = QueryPool(store_dir, size=settings.query_processes,
                              timeout=settings.query_timeout, profile=profile)
        self.heavy = QueryPool(store_dir, size=settings.heavy_slots,
                               timeout=settings.query_timeout, nice=HEAVY_NICE, profile=profile)
        self.slots = HeavySlots(slots_directory(settings), settings.heavy_slots)
        self._waiters = threading.BoundedSemaphore(max(1, settings.threads // 2))
        self._known_heavy: OrderedDict[bytes, None] = OrderedDict()
        self._known_lock = threading.Lock()

    def warm(self) -> None:
        self.fast.warm()

    def close(self) -> None:
        self.fast.close()
        self.heavy.close()

    def run(self, job: Job) -> Result | Streamed | _SlotStream:
        key = hashlib.blake2b(job.query.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if self._is_known_heavy(key):
            return self._run_heavy(job)
        started = time.monotonic()
        try:
            result = self.fast.run(job, timeout=self.fast_budget)
        except QueryTimeout:
            if time.monotonic() - started >= self.timeout:
                raise  # no fast-lane process freed within the whole limit: not an overrun
            self._remember_heavy(key)
            return self._run_heavy(job)
        if isinstance(result, Streamed):
            _renice(result, HEAVY_NICE)
        return result

    def _is_known_heavy(self, key: bytes) -> bool:
        with self._known_lock:
            if key not in self._known_heavy:
                return False
            self._known_heavy.move_to_end(key)
            return True

    def _remember_heavy(self, key: bytes) -> None:
        with self._known_lock:
            self._known_heavy[key] = None
            while len(self._known_heavy) > KNOWN_HEAVY:
                self._known_heavy.popitem(last=False)

    def _run_heavy(self, job: Job) -> Result | _SlotStream:
        if not self._waiters.acquire(blocking=False):
            raise self._full("too many heavy queries are waiting in this worker")
        try:
            fd = self.slots.acquire(time.monotonic() + self.timeout)
        finally:
            self._waiters.release()
        if fd is None:
            raise self._full(f"no heavy slot freed within the limit of {self.timeout:g} s "
                             "(KG_QUERY_TIMEOUT)")
        try:
            result = self.heavy.run(job)
        except BaseException:
            self.slots.release(fd)
            raise
        if isinstance(result, Streamed):
            return _SlotStream(result, fd)  # the slot is held until the stream ends
        self.slots.release(fd)
        return result

    def _full(self, why: str) -> HeavyLaneFull:
        return HeavyLaneFull(
            f"query stopped: it ran past the fast lane's {self.fast_budget:g} s "
            f"(KG_FAST_BUDGET) and the heavy lane is full ({self.slots.count} slots, "
            f"KG_HEAVY_SLOTS): {why}; the time limit is {self.timeout:g} s "
            "(KG_QUERY_TIMEOUT); try again later, or simplify the query or add a LIMIT")


def _renice(stream: Streamed, nice: int) -> None:
    """Lower the priority of the process producing `stream`, and retire it afterwards."""
    worker = stream._worker
    worker.retire = True
    try:
        os.setpriority(os.PRIO_PROCESS, worker.process.pid,
                       os.getpriority(os.PRIO_PROCESS, 0) + nice)
    except (ProcessLookupError, PermissionError) as err:  # gone already: nothing to lower
        log.info("could not renice a streaming query process: %s", err)


class _SlotStream:
    """A heavy-lane stream that gives its machine-wide slot back when it ends, however."""

    size = None

    def __init__(self, inner: Streamed, fd: int):
        self._inner, self._fd = inner, fd
        self.kind, self.media_type, self.body = inner.kind, inner.media_type, None
        self._lock = threading.Lock()

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self._inner.chunks()
        finally:
            self._free()

    def close(self) -> None:
        self._inner.close()
        self._free()

    def _free(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, -1
        if fd >= 0:
            HeavySlots.release(fd)
