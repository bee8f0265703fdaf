"""Write the search index of one build: `kg build` calls `write_index` after validation.

Tables (SQLite, one file next to the store):

    entity(id, iri, kind, label, description)  one row per thing of ours ({base}id/{kind}/{slug})
    name(id, entity, text, lang, norm, field)   every label, name, title and quote of a thing
    name_words   FTS5 over name.norm (words)    "words of a quote", "rights watch"
    name_grams   FTS5 trigram over name.norm    similar spellings ("Khodjaly"), names only
    entity_type(entity, type), type(iri, label) classes, for reconciliation by type

Rows of `name` are inserted in the order a reader wants hits: labels before titles and other
names, quotes last, and within each the shorter text first. FTS5 returns matches in rowid
order, so a page of hits is read off the front of the posting lists and its cost does not
grow with how many other things share a word (docs/decisions/0012-search-index.md).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Store

from graph.namespaces import KINDS, all_prefixes
from graph.queries import run
from graph.search.text import normalise

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entity(id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                    label TEXT NOT NULL, description TEXT NOT NULL DEFAULT '');
CREATE TABLE name(id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, text TEXT NOT NULL,
                  lang TEXT NOT NULL, norm TEXT NOT NULL, field TEXT NOT NULL);
CREATE TABLE type(iri TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE entity_type(entity INTEGER NOT NULL, type TEXT NOT NULL,
                         PRIMARY KEY(entity, type)) WITHOUT ROWID;
"""
INDEXES = """
CREATE INDEX name_norm ON name(norm);
CREATE INDEX name_entity ON name(entity);
CREATE INDEX entity_type_type ON entity_type(type, entity);
CREATE VIRTUAL TABLE name_words USING fts5(norm, content='name', content_rowid='id',
                                           tokenize='unicode61 remove_diacritics 0');
INSERT INTO name_words(rowid, norm) SELECT id, norm FROM name;
CREATE VIRTUAL TABLE name_grams USING fts5(norm, content='', tokenize='trigram',
                                           detail='none');
INSERT INTO name_grams(rowid, norm) SELECT id, norm FROM name WHERE field != 'quote';
"""
#: Order of the fields in the index (and so among hits of one tier).
FIELD_ORDER = {"label": 0, "title": 1, "name": 2, "quote": 3}


def thing_kind(iri: str, base_iri: str) -> str | None:
    """The kind of a thing of ours ({base}id/{kind}/{slug}); None for anything else, a hash
    resource (a name's own node, a geometry) included."""
    prefix = base_iri + "id/"
    if not iri.startswith(prefix) or "#" in iri:
        return None
    kind, _, slug = iri[len(prefix) :].partition("/")
    return kind if kind in KINDS and slug else None


def _short(iri: str, prefixes: dict[str, str]) -> str:
    for p, ns in prefixes.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{p}:{iri[len(ns):]}"
    return iri


def _value(term: object) -> str:
    return term.value if isinstance(term, Literal | NamedNode) else ""


def _label_key(row: tuple[int, str, str]) -> tuple[int, int, str]:
    rank, lang, text = row
    lang_order = 0 if lang.startswith("en") else 1 if not lang else 2
    return (rank, lang_order, text)


def _collect(store: Store, base_iri: str):
    """Things, their names (with the display label chosen) and quotes, read from the store."""
    names: dict[str, list[tuple[int, str, str, str]]] = {}  # iri -> (rank, lang, text, field)
    for row in run(store, "search/names", base_iri=base_iri):
        iri = _value(row["thing"])
        if thing_kind(iri, base_iri) is None:
            continue
        text = row["text"]
        names.setdefault(iri, []).append(
            (int(row["rank"].value), text.language or "", text.value, row["field"].value))
    for row in run(store, "search/quotes", base_iri=base_iri):
        iri = _value(row["thing"])
        if thing_kind(iri, base_iri) is not None:
            names.setdefault(iri, []).append((9, row["text"].language or "", row["text"].value,
                                              "quote"))
    return names


def _rows(names: dict[str, list[tuple[int, str, str, str]]], base_iri: str):
    """(entity rows, name rows sorted into the index's rowid order)."""
    entities, name_rows = [], []
    for n, iri in enumerate(sorted(names), start=1):
        found = names[iri]
        labels = [(r, lang, text) for r, lang, text, field in found if field != "quote"]
        label = min(labels, key=_label_key)[2] if labels else iri.rsplit("/", 1)[-1]
        entities.append((n, iri, thing_kind(iri, base_iri), label))
        seen = set()
        for _rank, lang, text, field in found:
            norm = normalise(text)
            if norm and (norm, field) not in seen:
                seen.add((norm, field))
                name_rows.append((n, text, lang, norm, field))
    name_rows.sort(key=lambda r: (FIELD_ORDER[r[4]], len(r[3]), r[3], r[0]))
    return entities, name_rows


def _types(store: Store, base_iri: str, ids: dict[str, int]) -> tuple[list, dict[str, str]]:
    prefixes = all_prefixes(base_iri)
    pairs, labels = set(), {}
    for row in run(store, "search/types", base_iri=base_iri):
        entity = ids.get(_value(row["thing"]))
        if entity is None:
            continue
        t = _value(row["type"])
        pairs.add((entity, t))
        label = row["label"]
        labels[t] = label.value if label is not None else labels.get(t) or _short(t, prefixes)
    return sorted(pairs), labels


def _descriptions(store: Store, base_iri: str, ids: dict[str, int]) -> Iterable[tuple[str, int]]:
    for row in run(store, "search/descriptions", base_iri=base_iri):
        entity = ids.get(_value(row["thing"]))
        if entity is not None:
            yield row["text"].value, entity


def write_index(store: Store, path: Path, base_iri: str, version: str) -> int:
    """Write the index of `store` to `path` (through a temporary file renamed at the end, so a
    failure leaves no half-written index); the number of names indexed."""
    names = _collect(store, base_iri)
    entities, name_rows = _rows(names, base_iri)
    ids = {iri: n for n, iri, _, _ in entities}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('version', ?), ('base_iri', ?)", (version, base_iri))
        db.executemany("INSERT INTO entity(id, iri, kind, label) VALUES (?, ?, ?, ?)", entities)
        db.executemany("INSERT INTO name(entity, text, lang, norm, field) VALUES (?, ?, ?, ?, ?)",
                       name_rows)
        db.executemany("UPDATE entity SET description = ? WHERE id = ? AND description = ''",
                       _descriptions(store, base_iri, ids))
        pairs, type_labels = _types(store, base_iri, ids)
        db.executemany("INSERT INTO entity_type VALUES (?, ?)", pairs)
        db.executemany("INSERT INTO type VALUES (?, ?)", sorted(type_labels.items()))
        db.executescript(INDEXES)
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    os.replace(tmp, path)
    return len(name_rows)
