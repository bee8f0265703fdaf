"""The hop to a query process: µs per trivial query through QueryPool.run at one connection.

Measures what the pipe costs (pickling the job, the two wake-ups, the outcome), not the engine:
`ASK {}` does no work. Run: `.venv/bin/python -m bench.pool_hop [rounds]`.
"""

from __future__ import annotations

import sys
import time

from endpoint.sparql.pool import QueryPool
from endpoint.sparql.worker import Job
from graph.config import Settings
from graph.queries import query_prefixes
from graph.store import pin_current_build

JSON = "application/sparql-results+json"


def measure(pool: QueryPool, job: Job, n: int, rounds: int) -> tuple[float, float]:
    """Best of `rounds`: wall µs and this process's CPU µs per query."""
    for _ in range(n // 5):
        pool.run(job)
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            pool.run(job)
        here = ((time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6)
        best = min(best, here)
    return best


def main(rounds: int = 5, n: int = 2000, profile: str = "offline") -> None:
    settings = Settings.from_env()
    pinned = pin_current_build(settings)
    prefixes = query_prefixes(settings.base_iri)
    pool = QueryPool(str(pinned.store_dir), 1, settings.query_timeout, profile=profile)
    try:
        pool.warm()
        job = Job(query="ASK {}", spool_path="", results_media_type=JSON, graph_media_type=None,
                  base_iri=settings.base_iri, prefixes=prefixes)
        wall, cpu = measure(pool, job, n, rounds)
    finally:
        pool.close()
    print(f"hop: {wall:.1f} µs wall, {cpu:.1f} µs CPU of the caller per trivial query "
          f"({len(prefixes)} prefixes, best of {rounds} × {n})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]), profile=(sys.argv[2:3] or ["offline"])[0])
