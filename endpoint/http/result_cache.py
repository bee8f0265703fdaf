"""A small in-process cache of finished responses, keyed on the same key as their ETag.

Public endpoints get the same few queries over and over (a class running the README's examples,
a crawler re-fetching pages, a dashboard polling): a repeat that hits here is answered with the
stored status, headers and bytes without parsing, scanning or touching the query processes.

What makes it safe:
- keys are the strong ETags of `endpoint.http.caching`, which hash the dataset version and
  everything in the request that selects the response, so an entry can only ever answer the
  request that produced it, and a new build (new version, new keys) never meets old bytes; each
  entry also records its version and is refused for any other;
- only complete, successful, GET-able responses are put (callers decide; `put` refuses bodies
  over the per-entry cap);
- bounded by total bytes (least recently used entries go first) and per entry; one lock makes it
  safe under gunicorn's threads. It is per process: each gunicorn worker has its own.

Sizes come from KG_RESULT_CACHE_BYTES (total, 0 turns it off) and KG_RESULT_CACHE_ENTRY_BYTES.
The SITE pages may use the same cache for rendered pages: `get(key, version)` / `put(key,
version, CachedResponse(...))` with a key from `http_cache.etag_for`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024
# what an entry costs beyond its body: the key, the headers, the bookkeeping (an estimate)
ENTRY_OVERHEAD = 512


@dataclass(frozen=True)
class CachedResponse:
    """What is needed to answer again: status, body and the headers that describe the body."""

    body: bytes
    content_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def cost(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD + sum(len(k) + len(v) for k, v in self.headers)


class ResultCache:
    """A thread-safe LRU map key -> CachedResponse bounded by bytes, total and per entry."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES):
        self.max_bytes = max(0, max_bytes)
        self.max_entry_bytes = min(max(0, max_entry_bytes), self.max_bytes)
        self._entries: OrderedDict[str, tuple[str, CachedResponse]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ResultCache:
        env = os.environ if environ is None else environ
        return cls(_int(env, "KG_RESULT_CACHE_BYTES", DEFAULT_MAX_BYTES),
                   _int(env, "KG_RESULT_CACHE_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES))

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def accepts(self, size: int) -> bool:
        """Would a body of `size` bytes be kept? (Lets a caller skip collecting one.)"""
        return self.enabled and size + ENTRY_OVERHEAD <= self.max_entry_bytes

    def get(self, key: str, version: str) -> CachedResponse | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: str, version: str, response: CachedResponse) -> bool:
        """Keep `response` under `key` for `version`; False when it is too big to keep."""
        cost = response.cost
        if not self.enabled or cost > self.max_entry_bytes:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1].cost
            self._entries[key] = (version, response)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted.cost
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def _int(env, name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of bytes") from None
