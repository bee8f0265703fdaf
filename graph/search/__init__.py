"""Search over names, titles and quotes: an SQLite FTS5 index written by `kg build`.

The index is one file, `search.sqlite`, inside the build directory next to the store, so the
build's symlink swap replaces store and index together and a failed build leaves both of the
previous build in place. Why SQLite FTS5 and not SPARQL over the store:
docs/decisions/0012-search-index.md.

    text.py    the one normalisation (case, diacritics, Azerbaijani ı/ə) both sides share
    index.py   writing the index from the store (build time)
    lookup.py  reading it: ranked, paged search and reconciliation candidates (serving time)
"""

from __future__ import annotations

INDEX_FILE = "search.sqlite"
