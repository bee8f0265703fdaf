"""One reader of SPARQL text, built on a real parser (rdflib's SPARQL 1.1 grammar).

Everything the endpoint and the remote backend need to know about a query before an engine sees
it comes from here: its form, every SERVICE it calls, its dataset clauses, how deeply it nests,
its longest property path, how many triple patterns it has, and where text can be added to it
(the rewriting itself is `graph.sparql.rewrite`). It replaces two hand-written lexers that
disagreed with the grammar and with each other about where strings, IRIs and comments begin.

The parser is not the security barrier: the query processes cannot open connections (the OS
sandbox of the endpoint). The reader lets the endpoint refuse early with a clear message, and
its verdicts are checked against Oxigraph's on the W3C syntax tests and on generated queries
(tests/test_query_reader.py). Parsing costs 1-6 ms per small query (a cached answer ~10 µs), so
results are kept in an LRU keyed by a hash of the text, the base IRI and the prefixes.

Limits: rdflib's parser recurses 10 to 40 Python frames per nesting level, so the process
recursion limit is raised once, modestly (`RECURSION_LIMIT`), to read `NESTING_CEILING` levels;
a query nested deeper fails the parse with RecursionError, which is reported as the nesting
limit. The other limits are measured on the parse and checked by `check_limits`.
"""

from __future__ import annotations

import copy
import hashlib
import sys
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from pyparsing import ParseBaseException

from graph.errors import QueryLimitExceeded, QuerySyntaxError
from graph.sparql.grammar import ParseBudgetExceeded, grammar
from graph.sparql.grammar import budget as grammar_budget
from graph.sparql.syntax_errors import explain
from graph.sparql.tree import QUERY_FORMS, QueryInfo, Service, VarUse, Walk

__all__ = ["Limits", "QueryInfo", "Service", "VarUse", "check_limits", "read"]

NESTING_CEILING = 160  # the deepest nesting the parser is given the stack to read
RECURSION_LIMIT = 40 * NESTING_CEILING + 1000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)


@dataclass(frozen=True)
class Limits:
    """What a query may ask of the engine; each names the setting that raises it."""

    max_nesting: int = 128
    max_path_length: int = 1000
    max_patterns: int = 2000

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(settings.max_nesting, settings.max_path_length, settings.max_patterns)


def check_limits(info: QueryInfo, limits: Limits) -> None:
    """Refuse (400) a query past a limit, naming the limit and its setting."""
    for measured, limit, what, setting in (
        (info.nesting, limits.max_nesting, "nests", "KG_MAX_NESTING"),
        (info.path_length, limits.max_path_length, "has a property path of", "KG_MAX_PATH_LENGTH"),
        (info.patterns, limits.max_patterns, "has", "KG_MAX_PATTERNS"),
    ):
        if measured > limit:
            unit = {"KG_MAX_NESTING": "levels deep", "KG_MAX_PATH_LENGTH": "steps"}.get(
                setting, "triple patterns"
            )
            raise QueryLimitExceeded(
                f"the query {what} {measured} {unit}; at most {limit} are accepted ({setting})"
            )


# -- reading, with a cache ---------------------------------------------------------------------

_cache: LRUCache = LRUCache(maxsize=4096)
_lock = threading.Lock()
# pyparsing's grammar objects are not safe for concurrent use: parse actions and the packrat
# state of one parse leak into another, and a grammar broken that way stays broken for the
# process (every later parse fails). A parse is pure Python and holds the GIL all along, so
# taking turns costs no throughput; a hostile text holds the turn at most KG_MAX_PARSE_SECONDS.
_parse_lock = threading.Lock()


def read(
    text: str,
    base_iri: str | None = None,
    prefixes: dict[str, str] | None = None,
    *,
    budget: float | None = None,
) -> QueryInfo:
    """Parse a query or update; `base_iri` and `prefixes` are those the engine will be given.

    Raises QuerySyntaxError (line, column, what was expected) when it is not SPARQL 1.1, and
    QueryLimitExceeded when it nests deeper than the parser can read or its parse would take
    longer than `budget` seconds (KG_MAX_PARSE_SECONDS; that refusal is not cached: it depends
    on the load of the machine as much as on the text).
    """
    key = (
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        base_iri,
        frozenset(prefixes.items()) if prefixes else None,
    )
    with _lock:
        found = _cache.get(key)
    if found is None:
        try:
            with _parse_lock, grammar_budget(budget):
                found = _read(text, base_iri, prefixes or {})
        except ParseBudgetExceeded:
            raise QueryLimitExceeded(
                f"the query takes more than {budget:g} s to read; at most that is spent on one "
                "query (KG_MAX_PARSE_SECONDS)"
            ) from None
        except (QuerySyntaxError, QueryLimitExceeded) as err:
            found = err
        with _lock:
            _cache[key] = found
    if isinstance(found, Exception):
        raise copy.copy(found)  # a fresh object per raise: the cached one keeps no traceback
    return found


def _read(text: str, base_iri: str | None, prefixes: dict[str, str]) -> QueryInfo:
    try:
        tree, form = _parse(text)
    except RecursionError:
        raise QueryLimitExceeded(
            f"the query nests more than {NESTING_CEILING} levels deep, more than this parser "
            "reads; at most KG_MAX_NESTING levels are accepted"
        ) from None
    except ParseBaseException as err:
        raise explain(text, err.loc, err.msg) from None
    walk = Walk(text, base_iri, prefixes)
    return walk.info(tree, form)


def _parse(text: str):
    """The parse tree and form; an update is tried when the text is no query."""
    try:
        results = grammar.Query.parse_string(text, parse_all=True)
    except ParseBaseException as query_error:
        try:
            update = grammar.UpdateUnit.parse_string(text, parse_all=True)[0]
        except ParseBaseException as update_error:
            raise max(query_error, update_error, key=lambda e: e.loc) from None
        return update, "UPDATE"
    return results, QUERY_FORMS[results[1].name]
