"""What every page of one build shares, computed once per dataset version instead of per request.

An entity page names a few dozen IRIs, and most of them (properties, classes, sources, the
datasets we link to) are named by every other page too. Their labels and the list of datasets
we link to do not depend on the request: they are a function of the build alone (a point's
small map is too, but its costly part, the basemap, is kept per frame by basemap.draw).
Asking the store for them on every page was most of an uncached page's queries
(docs/performance.md, bench/results/stages-2026-12-07-pages.md).

The response is still rendered for every request (the entity's own triples, claims and links are
read per request); only these request-independent pieces are kept.

Invalidation rule: every entry belongs to the build version the process pinned
(`KGContext.version`). The store is read-only per version and a process serves one version for
its lifetime (graph.store.pin_current_build: a new build is served after a restart), so an entry
can never outlive its data; `for_version` still refuses to hand a table to another version, so
a context that ever changed version would start from empty tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from cachetools import LRUCache

#: IRIs whose labels are kept: a page names ~50-300, a large store's pages share most of them;
#: the bound keeps a 10M-triple store's memory flat however many pages are visited.
LABELS_KEPT = 50_000
#: other request-independent values (the target datasets)
VALUES_KEPT = 2_048


class SharedPageData:
    """Labels by IRI and other per-build values, safe to share between the worker's threads."""

    def __init__(self, version: str, labels_kept: int = LABELS_KEPT,
                 values_kept: int = VALUES_KEPT):
        self.version = version
        self._labels: LRUCache = LRUCache(maxsize=labels_kept)
        self._values: LRUCache = LRUCache(maxsize=values_kept)
        self._lock = threading.Lock()

    def labels(self, iri: str) -> list | None:
        """The ranked labels of `iri` (see describe.Labeller), or None when not known yet."""
        with self._lock:
            return self._labels.get(iri)

    def known(self, iris: Iterable[str]) -> dict[str, list] | None:
        """The ranked labels of every IRI in `iris`, or None if any is not known yet."""
        out = {}
        with self._lock:
            for iri in iris:
                found = self._labels.get(iri)
                if found is None:
                    return None
                out[iri] = found
        return out

    def keep_labels(self, ranked: dict[str, list]) -> None:
        with self._lock:
            for iri, labels in ranked.items():
                self._labels[iri] = labels

    def value(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """`make()` once per key and version (two threads may both make it the first time)."""
        with self._lock:
            found = self._values.get(key, _MISSING)
        if found is not _MISSING:
            return found
        made = make()
        with self._lock:
            self._values[key] = made
        return made


_MISSING = object()


def for_version(extensions: dict, version: str) -> SharedPageData:
    """The shared data of `version`, kept in the app's `extensions` (one per app, like its
    KGContext: tests that build several apps never share it), made on first use."""
    shared = extensions.get("kg_pages")
    if shared is None or shared.version != version:
        shared = extensions["kg_pages"] = SharedPageData(version)
    return shared
