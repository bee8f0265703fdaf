"""The cheap path: a GET /sparql lookup that is provably cheap, answered in the event loop.

Every other query goes to a killable query process (endpoint/sparql/lanes.py), because
pyoxigraph cannot cancel a query: a thread that runs one runs it to the end. That hop, a2wsgi's
thread pool and Flask cost twenty times what the engine spends on a lookup. A query whose cost
is bounded *before* it runs needs no kill, so it may run here, in the worker, without them.

"Provably cheap" is decided in two steps, and anything either step does not recognise takes
the ordinary path (a miss costs a few microseconds, never a wrong answer):

1. **Shape, by a whitelist.** The text must be, token for token, a prologue of PREFIX
   declarations, then `SELECT [DISTINCT|REDUCED] (?v… | *) [WHERE] { … } [LIMIT n]` or
   `ASK [WHERE] { … }`, whose group holds only triple patterns `s p o .` with a constant
   subject (an absolute IRI or a prefixed name), a constant or variable predicate and a
   constant, variable or plain literal object. No FILTER, OPTIONAL, UNION, paths, subqueries,
   SERVICE, GRAPH, BIND, VALUES, functions, escapes or BASE: the tokens that could carry them
   are not in the whitelist, so a text that holds one is refused as a whole. This is not a
   reader of SPARQL (graph/sparql/reader.py is): it accepts a small regular subset and says no to
   everything else, and the engine still parses the text itself.
2. **Size, from the store.** For each pattern, the quads matching its constants are counted
   (an index range read, stopped at `MAX_ROWS`). The answer of a group of patterns is at most
   the product of those counts (every solution picks one match per pattern), so when the
   product is at most `MAX_ROWS`, evaluation reads and writes at most that much, whatever the
   store's size.

The barrier against a query that talks its way to the network is not this module: a worker that
answers cheap queries runs under the same seccomp filter as the query processes
(endpoint/sparql/sandbox.py, installed by `endpoint.server.granian_worker`), and without it the
cheap path is off.

Answers are those of the ordinary path, byte for byte: the same serializer, headers and ETag
(endpoint/http/caching.py), and they go into the same response cache.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import unquote_plus

from pyoxigraph import NamedNode, QueryResultsFormat, Store

from endpoint.http.caching import (
    SCOPE_KEY,
    CachedResponse,
    environ_of,
    etag_for,
    send_raw,
    vary_for,
)
from endpoint.http.cors import EXPOSE_HEADERS
from endpoint.http.negotiation import format_for_accept

log = logging.getLogger(__name__)

MAX_ROWS = 1_000  # the most solutions (and matching quads per pattern) a cheap query may have
MAX_PATTERNS = 4
MAX_LENGTH = 2_000  # characters: a lookup is short; a long text goes the ordinary way
FORMATS = (QueryResultsFormat.JSON, QueryResultsFormat.XML)  # no charset parameter to add

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[A-Za-z][A-Za-z0-9+.-]*:[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<pname>[^\s<>"{}()\[\],;#?$*^'`|\\=!&+/]*:[^\s<>"{}()\[\],;#?$*^'`|\\=!&+/]*)
  | (?P<var>[?$][A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"\\\r\n]*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*)?)
  | (?P<integer>[0-9]{1,9})
  | (?P<word>[A-Za-z]+)
  | (?P<punct>[{}.*])
""", re.VERBOSE)
# the prefixed names of the subset: a token read as far as SPARQL might read one, then held to this
_PNAME = re.compile(r"(?:[A-Za-z][A-Za-z0-9_-]*)?:(?:[A-Za-z0-9_][A-Za-z0-9_-]*)?")
_KEYWORDS = frozenset({"PREFIX", "SELECT", "DISTINCT", "REDUCED", "WHERE", "ASK", "LIMIT", "A"})


@dataclass(frozen=True)
class Pattern:
    subject: str  # an absolute IRI
    predicate: str | None  # an absolute IRI, or None for a variable
    object: str | None  # an absolute IRI, or None for a variable or a literal


def tokens(text: str) -> list[tuple[str, str]] | None:
    """(kind, text) of every token but space and comments, or None at the first character
    outside the whitelist."""
    out, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            return None
        kind, token, end = m.lastgroup or "", m[0], m.end()
        if kind == "pname":
            token = token.rstrip(".")  # a prefixed name never ends with a dot: it ends a triple
            end = m.start() + len(token)
            if not _PNAME.fullmatch(token):
                return None  # a name SPARQL reads further than this subset does (escapes…)
        if kind == "word" and token.upper() not in _KEYWORDS:
            return None  # FILTER, SERVICE, OPTIONAL, GRAPH, true… are not in the subset
        if kind not in ("ws", "comment"):
            out.append((kind, token))
        at = end
    return out


def patterns(text: str, prefixes: dict[str, str]) -> list[Pattern] | None:
    """The triple patterns of a text in the cheap subset, or None when it is not in it.

    The returned list's `borrows` attribute says whether the text uses a prefix it does not
    declare (one of `prefixes`, the endpoint's own): only then are they passed to the engine,
    whose answer is the same either way but which converts them on every call."""
    if len(text) > MAX_LENGTH:
        return None
    toks = tokens(text)
    if toks is None:
        return None
    known: dict[str, str] = {}
    i = 0

    def word(at: int) -> str:
        return toks[at][1].upper() if at < len(toks) and toks[at][0] == "word" else ""

    while word(i) == "PREFIX":
        if i + 2 >= len(toks) or toks[i + 1][0] != "pname" or not toks[i + 1][1].endswith(":") \
                or toks[i + 2][0] != "iri":
            return None
        known[toks[i + 1][1][:-1]] = toks[i + 2][1][1:-1]
        i += 3
    prologue = i
    if word(i) == "SELECT":
        i += 1
        if word(i) in ("DISTINCT", "REDUCED"):
            i += 1
        if i < len(toks) and toks[i] == ("punct", "*"):
            i += 1
        else:
            start = i
            while i < len(toks) and toks[i][0] == "var":
                i += 1
            if i == start:
                return None
    elif word(i) == "ASK":
        i += 1
    else:
        return None
    if word(i) == "WHERE":
        i += 1
    if i >= len(toks) or toks[i] != ("punct", "{"):
        return None
    i += 1
    found: list[Pattern] = []
    while i < len(toks) and toks[i] != ("punct", "}"):
        if i + 2 >= len(toks) or len(found) == MAX_PATTERNS:
            return None
        s, p, o = (_term(t, known, prefixes, role)
                   for t, role in zip(toks[i:i + 3], "spo", strict=True))
        if s is None or p is None or o is None:
            return None
        found.append(Pattern(s[1], p[1], o[1]))
        i += 3
        if i < len(toks) and toks[i] == ("punct", "."):
            i += 1
    if not found or i >= len(toks):
        return None
    i += 1  # the closing brace
    if word(i) == "LIMIT":
        if i + 1 >= len(toks) or toks[i + 1][0] != "integer":
            return None
        i += 2
    if i != len(toks):
        return None
    result = _Patterns(found)
    result.borrows = any(kind == "pname" and text.partition(":")[0] not in known
                         for kind, text in toks[prologue:])
    return result


class _Patterns(list):
    borrows = False


def _term(token: tuple[str, str], known: dict[str, str], fallback: dict[str, str],
          role: str) -> tuple[str, str | None] | None:
    """(kind, absolute IRI or None) of a token in its position, or None if it may not stand
    there. Only the subject must be constant."""
    kind, text = token
    if kind == "iri":
        return kind, text[1:-1]
    if kind == "pname":
        prefix, _, local = text.partition(":")
        namespace = known.get(prefix, fallback.get(prefix))
        if namespace is None:
            return None  # the engine would refuse it: let the ordinary path say so
        return kind, namespace + local
    if role == "s":
        return None
    if kind == "var":
        return kind, None
    if kind == "word" and text == "a" and role == "p":
        return kind, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    if role == "o" and kind in ("string", "integer"):
        return kind, None
    return None


def bounded(store: Store, found: list[Pattern]) -> bool:
    """Whether the product of the patterns' match counts is at most MAX_ROWS."""
    product = 1
    for pattern in found:
        matches = store.quads_for_pattern(
            NamedNode(pattern.subject),
            NamedNode(pattern.predicate) if pattern.predicate else None,
            NamedNode(pattern.object) if pattern.object else None,
            None)
        count = 0
        for _ in matches:
            count += 1
            if count * product > MAX_ROWS:
                return False
        product *= max(count, 1)
    return True


class CheapLookupASGI:
    """Answer provably cheap GET /sparql lookups in the event loop; pass the rest to `app`."""

    def __init__(self, app, ctx, restrict: Callable[[], bool]):
        self.app, self.ctx = app, ctx
        self.prefixes = dict(ctx.prefixes)
        self._restrict: Callable[[], bool] | None = restrict
        self.enabled = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self._restrict is not None:  # the first request: the worker restricts itself first
            restrict, self._restrict = self._restrict, None
            self.enabled = restrict()
        answer = self._answer(scope) if self.enabled else None
        if answer is None:
            return await self.app(scope, receive, send)
        return await send_raw(send, 200, answer.raw_headers,
                              b"" if scope["method"] == "HEAD" else answer.body)

    def _answer(self, scope) -> CachedResponse | None:
        if scope["method"] not in ("GET", "HEAD") or scope["path"] != "/sparql":
            return None
        text = _only_query(scope["query_string"])
        if text is None:
            return None
        environ, key = scope.get(SCOPE_KEY) or (environ_of(scope), None)
        fmt = format_for_accept(environ.get("HTTP_ACCEPT", ""), FORMATS)
        if fmt is None:
            return None
        ctx = self.ctx
        found = patterns(text, self.prefixes)
        if found is None or not bounded(ctx.store, found):
            return None
        try:
            results = ctx.store.query(text, base_iri=ctx.settings.base_iri,
                                      prefixes=self.prefixes if found.borrows else None,
                                      use_default_graph_as_union=True)
            out = BytesIO()
            results.serialize(out, fmt)
        except (SyntaxError, ValueError, OSError, RuntimeError) as err:
            log.info("cheap path declined a query the engine refused (%s)", err)
            return None  # the ordinary path answers with its own words
        body = out.getvalue()
        key = key or etag_for(ctx.version, environ)
        headers = [("Content-Type", fmt.media_type), ("Content-Length", str(len(body))),
                   ("X-Content-Type-Options", "nosniff"), ("Vary", vary_for("/sparql")),
                   ("Access-Control-Allow-Origin", "*"),
                   ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
                   ("ETag", f'"{key}"'),
                   ("Cache-Control", f"public, max-age={ctx.settings.cache_max_age}")]
        answer = CachedResponse(ctx.version, "200 OK", tuple(headers), body)
        cache = ctx.response_cache
        if cache.enabled and cache.accepts(len(body)):
            cache.put(key, answer)
        return answer


def _only_query(raw: bytes) -> str | None:
    """The `query` parameter when it is the only one (no dataset, no `format`): else None."""
    if not raw.startswith(b"query=") or b"&" in raw or b";" in raw:
        return None
    try:
        return unquote_plus(raw[6:].decode("ascii"), errors="strict")
    except (ValueError, UnicodeError):
        return None
