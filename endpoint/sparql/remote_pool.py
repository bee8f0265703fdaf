"""The query pool of an app over a remote backend: same `run(job)` as QueryPool.

With the embedded store a runaway query must run in a process we can kill (endpoint/sparql/pool.py).
With a remote endpoint the server does the work, so the job runs in the request's thread: the
HTTP timeout of the remote store (KG_QUERY_TIMEOUT) bounds it, and the result is serialized and
spooled exactly as a worker process would (endpoint/query_worker.run_job), so /sparql answers
the same bytes, statuses and errors whichever backend is behind it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import replace

from endpoint.sparql.pool import Result, _remove
from endpoint.sparql.worker import Job, run_job


class RemotePool:
    def __init__(self, store, spool_dir: str | None = None):
        self.store = store
        self.spool_dir = spool_dir or tempfile.gettempdir()

    def warm(self) -> None:
        """Nothing to start: there are no worker processes."""

    def close(self) -> None:
        """Nothing to stop."""

    def run(self, job: Job) -> Result:
        spool_path = os.path.join(self.spool_dir, f"kg-result-{uuid.uuid4().hex}.part")
        outcome = run_job(self.store, replace(job, spool_path=spool_path))
        if outcome.status != "ok" or not outcome.spooled:
            _remove(spool_path)
        return Result.from_outcome(outcome, spool_path)
