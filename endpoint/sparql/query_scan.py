"""A lexical scan of a SPARQL request string, done before anything executes it.

pyoxigraph exposes no parse-only call and no algebra, yet it contacts any `SERVICE` address over
HTTP as it evaluates (loopback included) and cannot be told not to. So the guards need to know,
without executing, three things about a query: its form (query or update), every `SERVICE` it
names, and whether it carries its own dataset clause (`FROM` / `FROM NAMED`).

The scan follows the terminals of the SPARQL 1.1 grammar (https://www.w3.org/TR/sparql11-query/#grammar)
closely enough that text inside strings, IRIs and comments is never mistaken for a keyword, and it
errs on the side of seeing a `SERVICE` where there may be none. Oxigraph's parser matches keywords
without a word boundary: `SERVICEx:y {…}` and `SERVICESILENT<…>` both reach the network (checked on
pyoxigraph 0.5.13), so any bare word or prefixed name that *starts* with "service" counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

_PN_CHARS = r"\w\-\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = rf"(?:[\w:]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_PN_PREFIX = rf"[^\W\d_](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"

# Order matters: at each position the first alternative that matches wins, as in the grammar
# (long strings before short ones, IRIREF before the `<` operator, prefixed names before words).
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'
              |"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<bnode>_:[\w\-.\u00B7]*)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<word>[^\W\d]\w*)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "ADD", "MOVE", "COPY", "WITH"}
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    offset: int


@dataclass
class Service:
    """One `SERVICE` occurrence: the resolved IRI when it is a plain IRI, else None."""

    text: str
    iri: str | None
    offset: int


@dataclass
class QueryShape:
    """What the guards and the executor need to know about a request string."""

    form: str | None = None  # SELECT | CONSTRUCT | DESCRIBE | ASK | UPDATE | None (unparseable)
    services: list[Service] = field(default_factory=list)
    has_dataset_clause: bool = False
    depth: int = 0  # deepest nesting of { ( [ brackets outside strings, IRIs and comments

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def tokenize(text: str) -> list[Token]:
    """The significant tokens of `text` (no whitespace, no comments)."""
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, m.group(), m.start()))
    return tokens


def scan(
    text: str, base_iri: str | None = None, prefixes: dict[str, str] | None = None
) -> QueryShape:
    """Scan a query or update string; `base_iri`/`prefixes` are those the engine will be given."""
    tokens = tokenize(text)
    shape = QueryShape()
    base = base_iri
    declared: dict[str, str] = dict(prefixes or {})
    level = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        upper = tok.text.upper()
        if tok.kind == "other" and tok.text in "{([":
            level += 1
            shape.depth = max(shape.depth, level)
        elif tok.kind == "other" and tok.text in "})]":
            level -= 1
        if tok.kind == "word" and upper == "BASE" and _is(tokens, i + 1, "iri"):
            base = _resolve(tokens[i + 1].text, base)
            i += 2
            continue
        if tok.kind == "word" and upper == "PREFIX" and _is(tokens, i + 1, "pname"):
            # the declared name is not a use: `PREFIX service: <…>` must not count as SERVICE
            if _is(tokens, i + 2, "iri"):
                declared[tokens[i + 1].text[:-1]] = _resolve(tokens[i + 2].text, base) or ""
                i += 3
                continue
            i += 2
            continue
        if shape.form is None and tok.kind == "word":
            if upper in QUERY_FORMS:
                shape.form = upper
            elif upper in UPDATE_KEYWORDS:
                shape.form = "UPDATE"
        if tok.kind == "word" and upper == "FROM":
            shape.has_dataset_clause = True
        if _mentions_service(tok):
            shape.services.append(_service_at(tokens, i, base, declared))
        i += 1
    return shape


def _is(tokens: list[Token], i: int, kind: str) -> bool:
    return i < len(tokens) and tokens[i].kind == kind


def _mentions_service(tok: Token) -> bool:
    """Could the engine read this token as (the start of) the SERVICE keyword?"""
    low = tok.text.lower()
    if tok.kind in ("word", "pname"):
        return low.startswith("service") or ".service" in low
    if tok.kind == "bnode":
        return ".service" in low
    return False


def _service_at(tokens: list[Token], i: int, base: str | None, declared: dict[str, str]) -> Service:
    """Describe the SERVICE at token i; only the exact keyword followed by an IRI resolves."""
    tok = tokens[i]
    if tok.text.upper() != "SERVICE":
        return Service(tok.text, None, tok.offset)
    j = i + 1
    if j < len(tokens) and tokens[j].kind == "word" and tokens[j].text.upper() == "SILENT":
        j += 1
    if j >= len(tokens):
        return Service(tok.text, None, tok.offset)
    target = tokens[j]
    iri = None
    if target.kind == "iri":
        iri = _resolve(target.text, base)
    elif target.kind == "pname":
        prefix, _, local = target.text.partition(":")
        if prefix in declared and "\\" not in local and "%" not in local:
            iri = declared[prefix] + local
    return Service(f"{tok.text} {target.text}", iri, tok.offset)


def _resolve(iriref: str, base: str | None) -> str | None:
    """The absolute IRI of an `<…>` token, or None when escapes make it ambiguous."""
    value = iriref[1:-1]
    if "\\" in value:
        return None
    return urljoin(base, value) if base else value
