"""Search index at scale (docs/decisions/0012-search-index.md): write a synthetic index of N
things (four labels each, a quote for every second one) and time each kind of lookup.

    .venv/bin/python -m bench.search_index          # N=1000000 (about a minute, 1 GB in /tmp)
    N=100000 .venv/bin/python -m bench.search_index
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from graph.search.index import INDEXES, SCHEMA
from graph.search.lookup import SearchIndex
from graph.search.text import normalise

LABELS = ("Synthetic place {i}", "Sintetik yer {i}", "Синтетическое место {i}", "Սինթետիկ վայր {i}")
QUOTE = "A total of {i} people were reported in this synthetic quote"


def _names(n: int) -> Iterator[tuple[int, str, str, str, str]]:
    for i in range(1, n + 1):
        for template, lang in zip(LABELS, ("en", "az", "ru", "hy"), strict=True):
            text = template.format(i=i)
            yield i, text, lang, normalise(text), "label"
    for i in range(1, n + 1, 2):
        text = QUOTE.format(i=i)
        yield i, text, "en", normalise(text), "quote"


def write(path: Path, n: int) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO entity(id, iri, kind, label) VALUES (?, ?, ?, ?)",
                       ((i, f"https://w3id.org/khojaly/id/place/syn-{i}", "place",
                         f"Synthetic place {i}") for i in range(1, n + 1)))
        db.executemany("INSERT INTO name(entity, text, lang, norm, field) VALUES (?, ?, ?, ?, ?)",
                       _names(n))
        db.executescript(INDEXES)
        db.commit()
    finally:
        db.close()


def median_ms(f: Callable[[], object], reps: int = 5) -> float:
    f()  # warm
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    n = int(os.environ.get("N", "1000000"))
    path = Path(os.environ.get("OUT", Path(tempfile.gettempdir()) / "kg-search-bench.sqlite"))
    start = time.time()
    write(path, n)
    size = path.stat().st_size / 1e6
    print(f"{n} things, {4 * n + n // 2} names: {time.time() - start:.1f} s, {size:.0f} MB")
    idx = SearchIndex(path)
    lookups = {
        "exact 'Synthetic place 777777'": lambda: idx.search("Synthetic place 777777"),
        "prefix 'synthetic place 77777'": lambda: idx.search("synthetic place 77777"),
        "one word in every name, page 1": lambda: idx.search("synthetic"),
        "one word in every name, page 50": lambda: idx.search("synthetic", page=50),
        "words of a quote 'reported 4321'": lambda: idx.search("reported 4321"),
        "no match, similar tried 'Xocali'": lambda: idx.search("Xocali"),
        "reconcile a typo 'Synthetc place 777777'": lambda: idx.candidates("Synthetc place 777777"),
    }
    for label, f in lookups.items():
        print(f"{label}: median {median_ms(f):.2f} ms")


if __name__ == "__main__":
    main()
